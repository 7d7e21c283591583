//! The trace generator: seeded, deterministic, one function per kind of player. Each models a session of a
//! small village game: 40 characters in 6 scenes, each with a personality and four topics of their own, and the
//! game's importance per line (greetings and farewells 0.3; "rumours" 0.6, "directions" 0.4, "work" 0.5,
//! "weather" 0.3; talk with a friend 0.6 or 0.5; a quest line 0.8). The game builds every request with
//! `pregen::canonical_request` and reports it with a `conversation` event built from the same moment; it names
//! a character (name, personality) the first time it is near.
//!
//! The game offers a character's dialogue menu (`dialogueOptions`) when they first come within 100 units in a
//! scene: their four topics (importance 0.6), the village's questions (rumours 0.6, directions 0.4, work 0.5,
//! weather 0.3) and what this visit adds (a quest's lines, coffee in the morning); every line the player starts
//! is chosen from it (`Builder::say` checks).
//!
//! Timing: walking sends an input every 400 ms (300 ms for the rusher); reading a line is idle time, then a
//! click (an input) chooses the next; looking around a scene is idle time.
//!
//! - `explorer`: walks through the 6 scenes once, meets nearly everyone there once, and asks each the same
//!   kind of things (rumours 85 %, directions 50 %, work 30 %).
//! - `social`: six evenings (18:00), each visiting 3 or 4 of the same 4 friends and talking about their
//!   topics, favourites first.
//! - `rusher`: 12 quest stages back to back: runs to the quest giver, clicks through 3 to 5 quest lines fast,
//!   then a fight (a critical moment).
//! - `daily`: 14 days of short visits by the clock: coffee with one friend at 8:00, lunch with another at
//!   12:30, an evening talk at 19:00, and the temple on Sundays at 10:00; the page is hidden in between.
use serde_json::json;
use unwritten_ai::ports::Rng;
use unwritten_ai::vocab::ResponseType;

use crate::builder::{Builder, DAY_MS, HOUR_MS, MONDAY_MS, NAMES, SCENES};
use crate::trace::{Device, Trace};

const Q: ResponseType = ResponseType::Question;
const D: ResponseType = ResponseType::Dialogue;
const G: ResponseType = ResponseType::Greeting;
const F: ResponseType = ResponseType::Farewell;

pub fn explorer(seed: u64) -> Trace {
    let mut b = Builder::new(seed, 9.0, 10.0 * 60_000.0);
    b.device(Device { visibility: Some("visible".into()), effective_type: Some("4g".into()), ..Default::default() });
    for scene in SCENES {
        b.walk(b.uniform(3_000.0, 6_000.0), 400.0);
        b.enter(scene);
        let mut here = b.scene_npcs(scene);
        b.shuffle(&mut here);
        let dist: Vec<(usize, f64)> = here.iter().map(|i| (*i, b.uniform(20.0, 95.0))).collect();
        b.nearby(&dist);
        b.wait(b.uniform(2_500.0, 6_000.0));
        for (k, npc) in here.iter().copied().enumerate() {
            if b.chance(0.15) {
                continue;
            }
            b.walk(b.uniform(1_500.0, 4_000.0), 400.0);
            let others: Vec<(usize, f64)> =
                here.iter().skip(k + 1).map(|i| (*i, b.uniform(20.0, 95.0))).chain([(npc, 8.0)]).collect();
            b.nearby(&others);
            b.say(npc, G, None, 0.3);
            b.read(2_500.0, 5_000.0);
            for (topic, p, importance) in [("rumours", 0.85, 0.6), ("directions", 0.5, 0.4), ("work", 0.3, 0.5)] {
                if b.chance(p) {
                    b.say(npc, Q, Some(topic), importance);
                    b.read(3_000.0, 7_000.0);
                }
            }
            if b.chance(0.7) {
                b.say(npc, F, None, 0.3);
                b.read(1_000.0, 2_000.0);
            }
        }
        b.tell_clock();
    }
    b.finish("explorer", seed, MONDAY_MS + 18.0 * HOUR_MS, "meets many characters once, asks each the same things")
}

pub fn social(seed: u64) -> Trace {
    let mut b = Builder::new(seed, 18.0, HOUR_MS);
    let friends = [0usize, 7, 14, 21];
    for day in 0..6 {
        b.t = f64::from(day) * DAY_MS;
        b.device(Device {
            visibility: Some("visible".into()),
            effective_type: Some("4g".into()),
            ..Default::default()
        });
        b.input();
        let mut order = friends.to_vec();
        b.shuffle(&mut order);
        let visits = if b.chance(0.5) { 3 } else { 4 };
        for friend in order.into_iter().take(visits) {
            let scene = b.npcs.get(friend).map_or("square", |n| n.scene);
            b.walk(b.uniform(3_000.0, 6_000.0), 400.0);
            b.enter(scene);
            let strangers: Vec<(usize, f64)> = b
                .scene_npcs(scene)
                .into_iter()
                .filter(|i| *i != friend)
                .take(2)
                .map(|i| (i, b.uniform(40.0, 95.0)))
                .collect();
            let mut near = strangers.clone();
            near.push((friend, 60.0));
            b.nearby(&near);
            b.wait(b.uniform(2_000.0, 4_000.0));
            b.walk(2_000.0, 400.0);
            near.pop();
            near.push((friend, 5.0));
            b.nearby(&near);
            b.say(friend, G, None, 0.3);
            b.read(2_000.0, 4_000.0);
            // Favourites first: topic i with weight 4 - i, without replacement.
            let mut topics: Vec<&str> = b.npcs.get(friend).map(|n| n.topics.clone()).unwrap_or_default();
            let talks = 2 + (b.rng.next_u64() % 3) as usize;
            for _ in 0..talks.min(topics.len()) {
                let weights: Vec<f64> = (0..topics.len()).map(|i| (4 - i) as f64).collect();
                let mut pick = b.rng.next_f64() * weights.iter().sum::<f64>();
                let mut at = 0;
                for (i, w) in weights.iter().enumerate() {
                    at = i;
                    if pick < *w {
                        break;
                    }
                    pick -= w;
                }
                let topic = topics.remove(at);
                b.say(friend, D, Some(topic), 0.6);
                b.read(4_000.0, 8_000.0);
            }
            if b.chance(0.3) {
                b.say(friend, Q, Some("weather"), 0.3);
                b.read(2_000.0, 4_000.0);
            }
            b.say(friend, F, None, 0.3);
            b.read(1_000.0, 2_000.0);
        }
        b.device(Device { visibility: Some("hidden".into()), ..Default::default() });
    }
    b.finish("social", seed, MONDAY_MS + 18.0 * HOUR_MS, "six evenings with the same four friends")
}

pub fn rusher(seed: u64) -> Trace {
    let mut b = Builder::new(seed, 10.0, 10.0 * 60_000.0);
    b.device(Device { visibility: Some("visible".into()), effective_type: Some("4g".into()), ..Default::default() });
    for stage in 1..=12 {
        let giver = (stage * 7) % NAMES.len();
        let scene = b.npcs.get(giver).map_or("square", |n| n.scene);
        b.walk(b.uniform(3_000.0, 8_000.0), 300.0);
        b.enter(scene);
        let mut near: Vec<(usize, f64)> = b
            .scene_npcs(scene)
            .into_iter()
            .filter(|i| *i != giver)
            .take(3)
            .map(|i| (i, b.uniform(30.0, 95.0)))
            .collect();
        near.push((giver, 15.0));
        let lines = 3 + b.rng.next_u64() % 3;
        let quest = (1..=lines).map(|part| (D, format!("quest {stage}, part {part}"), 0.8)).collect();
        b.extras = [(giver, quest)].into();
        b.nearby(&near);
        b.walk(500.0, 300.0);
        if b.chance(0.5) {
            b.say(giver, G, None, 0.3);
            b.read(800.0, 1_500.0);
        }
        for part in 1..=lines {
            b.say(giver, D, Some(&format!("quest {stage}, part {part}")), 0.8);
            b.read(1_000.0, 1_800.0);
        }
        b.observe(json!({"type": "criticalMoment", "active": true}));
        b.walk(b.uniform(20_000.0, 40_000.0), 500.0);
        b.observe(json!({"type": "criticalMoment", "active": false}));
        b.wait(b.uniform(1_000.0, 2_000.0));
    }
    b.finish("rusher", seed, MONDAY_MS + 20.0 * HOUR_MS, "runs the main quest: 12 stages, fast clicks, fights")
}

pub fn daily(seed: u64) -> Trace {
    let mut b = Builder::new(seed, 0.0, HOUR_MS);
    let (ann, bo, cy, priest) = (3usize, 10usize, 17usize, 30usize);
    for day in 0..14 {
        let mut visits: Vec<(f64, usize, &str)> = vec![(8.0, ann, "cafe"), (12.5, bo, "market"), (19.0, cy, "square")];
        // 2026-01-05 is a Monday: day 6 and 13 are Sundays.
        if day % 7 == 6 {
            visits.insert(1, (10.0, priest, "temple"));
        }
        for (hour, friend, scene) in visits {
            b.t = f64::from(day) * DAY_MS + hour * HOUR_MS + b.uniform(0.0, 10.0 * 60_000.0);
            b.device(Device {
                visibility: Some("visible".into()),
                effective_type: Some("4g".into()),
                ..Default::default()
            });
            b.input();
            b.enter(scene);
            let news = [("the news", 0.5), ("the weather today", 0.5)];
            let extras: Vec<(ResponseType, String, f64)> = match friend {
                f if f == ann => [("coffee", 0.6)].iter().chain(&news).map(|(t, i)| (D, t.to_string(), *i)).collect(),
                f if f == bo => {
                    let own = b.npcs.get(bo).map(|n| n.topics.clone()).unwrap_or_default();
                    let mut menu = vec![(D, "lunch".to_string(), 0.6)];
                    menu.extend(own.iter().take(3).map(|t| (D, t.to_string(), 0.5)));
                    menu
                }
                f if f == priest => vec![(D, "sermon".into(), 0.6)],
                _ => Vec::new(),
            };
            b.extras = [(friend, extras)].into();
            b.nearby(&[(friend, 30.0), ((friend + 1) % NAMES.len(), 70.0)]);
            b.wait(b.uniform(2_500.0, 5_000.0));
            b.walk(2_000.0, 400.0);
            b.nearby(&[(friend, 5.0), ((friend + 1) % NAMES.len(), 70.0)]);
            b.say(friend, G, None, 0.3);
            b.read(2_000.0, 4_000.0);
            let talk: Vec<(String, f64)> = match friend {
                f if f == ann => {
                    let second = if b.chance(0.5) { "the news" } else { "the weather today" };
                    vec![("coffee".into(), 0.6), (second.into(), 0.5)]
                }
                f if f == bo => {
                    let topics = b.npcs.get(bo).map(|n| n.topics.clone()).unwrap_or_default();
                    let pick = topics.get((b.rng.next_u64() % 3) as usize).copied().unwrap_or("the news");
                    vec![("lunch".into(), 0.6), (pick.into(), 0.5)]
                }
                f if f == priest => vec![("sermon".into(), 0.6)],
                _ => {
                    let mut topics = b.npcs.get(cy).map(|n| n.topics.clone()).unwrap_or_default();
                    b.shuffle_strs(&mut topics);
                    topics.into_iter().take(2).map(|t| (t.to_string(), 0.6)).collect()
                }
            };
            for (topic, importance) in talk {
                b.say(friend, D, Some(&topic), importance);
                b.read(4_000.0, 8_000.0);
            }
            b.say(friend, F, None, 0.3);
            b.read(1_000.0, 2_000.0);
            b.wait(b.uniform(30_000.0, 90_000.0));
            b.device(Device { visibility: Some("hidden".into()), ..Default::default() });
        }
    }
    b.finish("daily", seed, MONDAY_MS, "14 days of short visits that follow the clock")
}

/// The committed traces: (file name, trace).
pub fn all() -> Vec<(&'static str, Trace)> {
    vec![
        ("explorer.jsonl", explorer(1)),
        ("social.jsonl", social(2)),
        ("rusher.jsonl", rusher(3)),
        ("daily.jsonl", daily(4)),
    ]
}
