//! Pre-generation on the fakes: observing and keeping the history, and the analysis (`tests_loop.rs`: the
//! loop). `tests/replay.rs` runs it against the real router and cache.
use std::rc::Rc;

use pollster::block_on;
use serde_json::{json, Value};

use super::*;
use crate::testkit::{FakeClock, MemoryStore, StoreFault};
use crate::vocab::{CandidateSource, ResponseType};

pub(super) fn config(pregen: Value) -> Config {
    Config::parse(json!({ "namespace": "game", "pregen": pregen })).unwrap()
}

pub(super) fn start(cfg: &Config, clock: &FakeClock, store: Option<Rc<MemoryStore>>) -> Pregen {
    let store = store.map(|s| s as Rc<dyn KvStore>);
    block_on(Pregen::start(cfg, Rc::new(clock.clone()), store))
}

pub(super) fn event(v: Value) -> ObserveEvent {
    ObserveEvent::parse(v).unwrap()
}

pub(super) fn near(list: &[(&str, f64)]) -> ObserveEvent {
    let characters: Vec<Value> = list.iter().map(|(id, d)| json!({"id": id, "distance": d})).collect();
    event(json!({"type": "charactersNearby", "characters": characters}))
}

pub(super) fn talk(id: &str, kind: &str, topic: &str) -> ObserveEvent {
    event(json!({"type": "conversation", "character": {"id": id, "name": id.to_uppercase()}, "responseType": kind,
                 "topic": topic, "importance": 0.6}))
}

fn find<'a>(c: &'a [Candidate], id: &str, kind: ResponseType, topic: Option<&str>) -> Option<&'a Candidate> {
    c.iter().find(|c| c.character == id && c.kind == kind && c.topic.as_deref() == topic)
}

#[test]
fn the_history_is_bounded_kept_and_reloaded_and_a_corrupt_record_is_counted() {
    let (clock, store) = (FakeClock::default(), Rc::new(MemoryStore::new("localStorage")));
    let cfg = config(json!({}));
    let p = start(&cfg, &clock, Some(store.clone()));
    for i in 0..130 {
        p.observe(talk("ann", "dialogue", &format!("topic {i}")));
    }
    assert_eq!(p.metrics().history, 100, "the design keeps the last 100");
    block_on(p.persist());
    let again = start(&cfg, &clock, Some(store.clone()));
    assert_eq!((again.metrics().history, again.metrics().characters, again.metrics().corrupt), (100, 1, 0));

    block_on(store.put("pregen/game/history", b"{\"v\":1,\"interactions\":[1,2]")).unwrap();
    let corrupt = start(&cfg, &clock, Some(store.clone()));
    assert_eq!((corrupt.metrics().history, corrupt.metrics().corrupt), (0, 1));
    store.set_fault(StoreFault::Unavailable);
    let failing = start(&cfg, &clock, Some(store.clone()));
    assert_eq!(failing.metrics().store_errors, 1);
    block_on(failing.persist());
    assert_eq!(failing.metrics().store_errors, 2, "a failed write is counted, never fatal");
}

#[test]
fn bad_events_are_refused_with_the_field_and_counted() {
    let p = start(&config(json!({})), &FakeClock::default(), None);
    let e = p.observe_json(json!({"type": "clock", "hour": -1}));
    assert!(matches!(e, Err(Error::InvalidRequest { ref field, .. }) if field == "hour"), "{e:?}");
    assert!(p.observe_json(json!({"type": "clock", "hour": 8})).is_ok());
    assert_eq!((p.metrics().observed, p.metrics().rejected), (1, 1));
}

#[test]
fn proximity_greets_with_the_design_confidence() {
    let p = start(&config(json!({})), &FakeClock::default(), None);
    p.observe(near(&[("ann", 20.0), ("bo", 90.0), ("cy", 150.0)]));
    p.observe(event(json!({"type": "scene", "scene": "square"})));
    let c = p.candidates();
    let ann = find(&c, "ann", ResponseType::Greeting, None).unwrap();
    assert!((ann.confidence - 0.8 * 0.7).abs() < 1e-9);
    assert_eq!((ann.source, ann.ttl_ms), (CandidateSource::Proximity, 300_000.0));
    assert_eq!(ann.request["context"]["scene"], "square");
    assert_eq!(ann.request["context"].get("playerName"), None, "no name until the game gives one");
    p.observe(event(json!({"type": "player", "playerId": "p1", "playerName": "Wren"})));
    let c = p.candidates();
    let ann = find(&c, "ann", ResponseType::Greeting, None).unwrap();
    assert_eq!((&ann.request["context"]["playerName"], &ann.request["playerId"]), (&json!("Wren"), &json!("p1")));
    assert!(find(&c, "bo", ResponseType::Greeting, None).is_none(), "0.07 is below minConfidence");
    assert!(find(&c, "cy", ResponseType::Greeting, None).is_none(), "out of range");
}

#[test]
fn habits_predict_a_new_character_and_the_conversation_goes_on() {
    let clock = FakeClock::default();
    let p = start(&config(json!({})), &clock, None);
    for id in ["a", "b", "c", "d"] {
        p.observe(talk(id, "greeting", ""));
        p.observe(talk(id, "question", "Rumours"));
        p.observe(talk(id, "question", "directions"));
        clock.advance(120_000.0);
    }
    p.observe(near(&[("newcomer", 10.0)]));
    let c = p.candidates();
    let rumours = find(&c, "newcomer", ResponseType::Question, Some("Rumours")).unwrap();
    assert_eq!(rumours.source, CandidateSource::History);
    // Asked of all 4 characters met; 4 of the 5 seen were talked to: about 1 x 0.9 x 5/7.
    assert!(rumours.confidence > 0.6, "asked of everyone: {}", rumours.confidence);
    assert_eq!(rumours.request["context"]["playerText"], "Rumours", "the spelling the game used");
    assert_eq!(rumours.importance, 0.6, "the importance the game gives that line");

    p.observe(talk("newcomer", "greeting", ""));
    p.observe(talk("newcomer", "question", "rumours"));
    let c = p.candidates();
    assert!(find(&c, "newcomer", ResponseType::Question, Some("Rumours")).is_none(), "already said");
    let next = find(&c, "newcomer", ResponseType::Question, Some("directions")).unwrap();
    // 4 of 4 earlier conversations went on to it, with one conversation's worth of doubt: 4/5.
    assert!((next.confidence - 0.8).abs() < 0.01, "{next:?}");
}

/// Three days of the same talk with ann at 8 in the morning: a morning routine.
fn ann_every_morning(p: &Pregen, clock: &FakeClock, lines: &[(&str, &str)]) {
    p.observe(event(json!({"type": "clock", "hour": 8})));
    for _ in 0..3 {
        for (kind, topic) in lines {
            p.observe(talk("ann", kind, topic));
        }
        clock.advance(86_400_000.0);
    }
}

#[test]
fn friends_are_predicted_in_their_window_of_the_game_clock() {
    let clock = FakeClock::default();
    let p = start(&config(json!({})), &clock, None);
    ann_every_morning(&p, &clock, &[("greeting", ""), ("dialogue", "coffee"), ("farewell", "")]);
    p.observe(talk("bo", "dialogue", "once"));
    clock.advance(3_600_000.0);
    let at = |hour: f64| {
        p.observe(event(json!({"type": "clock", "hour": hour})));
        p.candidates()
    };
    let morning = at(7.5);
    let coffee = find(&morning, "ann", ResponseType::Dialogue, Some("coffee")).unwrap();
    assert_eq!((coffee.source, coffee.confidence, coffee.ttl_ms), (CandidateSource::Morning, 0.6, 3_600_000.0));
    assert!(morning.iter().all(|c| c.character != "bo"), "one talk is no friendship");
    let lunch = at(12.0);
    let greet = find(&lunch, "ann", ResponseType::Greeting, None).unwrap();
    assert_eq!((greet.source, greet.confidence), (CandidateSource::Lunch, 0.5), "a friend, never met at lunch");
    assert!(at(19.0).iter().all(|c| c.source != CandidateSource::Evening), "9 talks: not a close friend yet");
    assert!(at(10.0).is_empty());
}

#[test]
fn weekly_patterns_need_two_earlier_weeks() {
    let clock = FakeClock::default();
    let p = start(&config(json!({"history": {"halfLifeMs": 30.0 * 86_400_000.0}})), &clock, None);
    p.observe(event(json!({"type": "clock", "hour": 10})));
    for _ in 0..2 {
        p.observe(talk("priest", "dialogue", "sermon"));
        clock.advance(7.0 * 86_400_000.0);
    }
    let c = p.candidates();
    let sermon = find(&c, "priest", ResponseType::Dialogue, Some("sermon")).unwrap();
    assert_eq!((sermon.source, sermon.confidence), (CandidateSource::Weekly, 1.0));
    clock.advance(86_400_000.0);
    assert!(p.candidates().is_empty(), "another weekday");
}

#[test]
fn candidates_rank_by_benefit() {
    let p = start(&config(json!({})), &FakeClock::default(), None);
    p.observe(near(&[("a", 10.0), ("b", 40.0), ("c", 5.0)]));
    let c = p.candidates();
    let order: Vec<&str> = c.iter().map(|c| c.character.as_str()).collect();
    assert_eq!(order, ["c", "a", "b"]);
    assert!(c.windows(2).all(|w| w[0].benefit >= w[1].benefit));
}

#[test]
fn the_enable_pregeneration_and_use_cache_flags_pause_the_loop_at_its_enabled_gate() {
    use crate::config::steering::Steering;
    use crate::vocab::{GateDecision, PregenGate};
    let cfg = config(json!({"gates": {"idle": false}}));
    let p = start(&cfg, &FakeClock::default(), None);
    let cell = Rc::new(std::cell::Cell::new(Steering::from_config(&cfg.cloud)));
    p.set_steering(cell.clone());
    assert_eq!(p.gates(true).share, 1.0);
    cell.set(Steering { enable_pregeneration: false, ..cell.get() });
    assert_eq!(p.gates(true).blocked_by(), Some(PregenGate::Enabled));
    cell.set(Steering { enable_pregeneration: true, use_cache: false, ..cell.get() });
    assert_eq!(p.gates(true).blocked_by(), Some(PregenGate::Enabled), "nothing would read what it makes");
    cell.set(Steering { use_cache: true, ..cell.get() });
    assert_eq!(p.gates(true).share, 1.0, "on again at the next check, no restart");
    let counted = &p.metrics().gates[&PregenGate::Enabled];
    assert_eq!((counted[&GateDecision::Pass], counted[&GateDecision::Block]), (2, 2));
}

#[test]
fn a_character_passed_by_without_a_word_is_greeted_with_less_confidence_until_the_player_talks_to_them() {
    let (clock, store) = (FakeClock::default(), Rc::new(MemoryStore::new("localStorage")));
    let cfg = config(json!({}));
    let p = start(&cfg, &clock, Some(store.clone()));
    let greeting = |p: &Pregen, id: &str| {
        let c = p.candidates();
        find(&c, id, ResponseType::Greeting, None).map(|c| (c.confidence * 1e6).round() / 1e6)
    };
    let passed = |p: &Pregen, id: &str| p.state.borrow().history.passed(id);
    // Ann leaves twice without a word, Bob once; Cy is far (out of range): never near, never passed.
    for list in [
        vec![("ann", 10.0), ("bob", 10.0), ("cy", 150.0)],
        vec![("bob", 10.0)],
        vec![],
        vec![("ann", 10.0), ("bob", 10.0)],
        vec![("bob", 10.0)],
        vec![("bob", 10.0), ("ann", 10.0)],
    ] {
        p.observe(near(&list));
    }
    assert_eq!((passed(&p, "ann"), passed(&p, "bob"), passed(&p, "cy")), (2, 1, 0));
    // (1 - 10/100) x 0.7 x 0.5^passes; Ann's 0.1575 is under minConfidence (0.2): no line made for her.
    assert_eq!((greeting(&p, "ann"), greeting(&p, "bob")), (None, Some(0.315)));

    // Kept with the history, across a reload.
    block_on(p.persist());
    let again = start(&cfg, &clock, Some(store.clone()));
    assert_eq!((passed(&again, "ann"), passed(&again, "bob")), (2, 1));

    // A word with Ann forgives her passes; staying near after the talk is no pass.
    p.observe(talk("ann", "greeting", ""));
    p.observe(near(&[("bob", 10.0), ("ann", 5.0)]));
    p.observe(near(&[("bob", 10.0)]));
    assert_eq!(passed(&p, "ann"), 0);

    // passedFactor 1: passes do not count.
    let off = start(&config(json!({"proximity": {"passedFactor": 1}})), &FakeClock::default(), None);
    for list in [vec![("ann", 10.0)], vec![], vec![("ann", 10.0)], vec![], vec![("ann", 10.0)]] {
        off.observe(near(&list));
    }
    assert_eq!((passed(&off, "ann"), greeting(&off, "ann")), (2, Some(0.63)));
}

#[test]
fn an_offered_line_is_predicted_with_the_games_request_and_its_uptake_is_learned_and_kept() {
    let (clock, store) = (FakeClock::default(), Rc::new(MemoryStore::new("localStorage")));
    let cfg = config(json!({}));
    let p = start(&cfg, &clock, Some(store.clone()));
    p.observe(event(json!({"type": "scene", "scene": "market"})));
    p.observe(near(&[("bo", 10.0)]));
    let menu = json!({"type": "dialogueOptions", "character": {"id": "bo", "name": "Bo"},
        "options": [{"topic": "The River", "importance": 0.7}, {"responseType": "question", "topic": "work"}]});
    p.observe(event(menu.clone()));
    p.observe(talk("bo", "greeting", ""));
    let c = p.candidates();
    let river = find(&c, "bo", ResponseType::Dialogue, Some("The River")).expect("a line never said, from the offer");
    assert_eq!(river.source, CandidateSource::Options);
    assert!((river.confidence - 0.5).abs() < 1e-9, "the partner x uptake 0.5 before any offer: {}", river.confidence);
    // The request the game sends when the player chooses it, built from the same moment.
    let mut m = Moment::new(Character::new("bo", "BO"), ResponseType::Dialogue, Some("The River"));
    m.scene = Some("market".into());
    m.importance = 0.7;
    assert_eq!(river.request, canonical_request(&m));
    // Three conversations in which the player takes "work" and never "the river".
    for _ in 0..3 {
        p.observe(talk("bo", "question", "work"));
        p.observe(talk("bo", "farewell", ""));
    }
    let c = p.candidates();
    let rate = |topic| find(&c, "bo", ResponseType::Dialogue, Some(topic)).map_or(0.0, |c| c.confidence);
    assert!(rate("The River") < 0.3, "an offer never taken falls: {}", rate("The River"));
    block_on(p.persist());
    let again = start(&cfg, &clock, Some(store));
    again.observe(near(&[("bo", 10.0)]));
    again.observe(event(menu));
    again.observe(talk("bo", "greeting", ""));
    let c = again.candidates();
    let river = find(&c, "bo", ResponseType::Dialogue, Some("The River")).map_or(0.0, |c| c.confidence);
    assert!(river < 0.3, "the uptake survives a reload: {river}");
    again.observe(event(json!({"type": "dialogueOptions", "character": {"id": "bo"}, "options": []})));
    assert!(find(&again.candidates(), "bo", ResponseType::Dialogue, Some("The River")).is_none(), "withdrawn");
}

#[test]
fn a_habit_that_is_not_on_the_characters_menu_is_not_predicted_unless_off_menu_lines_are_allowed() {
    let setup = |factor: f64| {
        let clock = FakeClock::default();
        let p = start(&config(json!({"offMenuFactor": factor, "minConfidence": 0.05})), &clock, None);
        p.observe(event(json!({"type": "scene", "scene": "market"})));
        // Two conversations with bo about the river, minutes apart, make it a habit with bo.
        for _ in 0..2 {
            p.observe(talk("bo", "dialogue", "the river"));
            p.observe(talk("bo", "farewell", ""));
            clock.advance(120_000.0);
        }
        p.observe(near(&[("bo", 10.0)]));
        p
    };
    let river = |p: &Pregen| find(&p.candidates(), "bo", ResponseType::Dialogue, Some("the river")).cloned();
    let p = setup(0.0);
    let before = river(&p).expect("a habit with a character near the player");
    assert_eq!(before.source, CandidateSource::History);
    // Today's menu offers other dialogue lines and a question: the river cannot be chosen.
    p.observe(event(json!({"type": "dialogueOptions", "character": {"id": "bo"},
        "options": [{"topic": "the harvest"}, {"responseType": "question", "topic": "work"}]})));
    assert!(river(&p).is_none(), "a dialogue line off a menu of dialogue lines");
    let farewell = find(&p.candidates(), "bo", ResponseType::Farewell, None).map(|c| c.confidence);
    assert!(farewell.is_some_and(|c| c > 0.2), "a kind the menu does not list is not ruled out: {farewell:?}");
    // A game whose menus grow as the conversation goes on keeps part of it.
    let open = setup(0.5);
    open.observe(event(json!({"type": "dialogueOptions", "character": {"id": "bo"}, "options": [{"topic": "x"}]})));
    let half = river(&open).expect("kept at half");
    assert!((half.confidence - before.confidence * 0.5).abs() < 1e-9, "{} vs {}", half.confidence, before.confidence);
}

#[test]
fn a_menu_rules_lines_out_only_while_its_character_is_near() {
    let clock = FakeClock::default();
    let p = start(&config(json!({})), &clock, None);
    ann_every_morning(&p, &clock, &[("dialogue", "coffee"), ("farewell", "")]);
    let coffee = |p: &Pregen| find(&p.candidates(), "ann", ResponseType::Dialogue, Some("coffee")).map(|c| c.source);
    p.observe(event(json!({"type": "clock", "hour": 7.5})));
    assert_eq!(coffee(&p), Some(CandidateSource::Morning), "a morning routine");
    // Ann comes near with a menu without coffee: it cannot be chosen now.
    p.observe(near(&[("ann", 10.0)]));
    p.observe(event(json!({"type": "dialogueOptions", "character": {"id": "ann"}, "options": [{"topic": "tea"}]})));
    assert_eq!(coffee(&p), None);
    // She leaves; today's menu says nothing of tomorrow's.
    p.observe(near(&[]));
    assert_eq!(coffee(&p), Some(CandidateSource::Morning));
}
