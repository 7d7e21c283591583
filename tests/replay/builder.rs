//! The village the generated traces play in, and a writer of trace events (see `gen.rs`).
use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};
use unwritten_ai::ports::Rng;
use unwritten_ai::pregen::{canonical_request, Character, Moment};
use unwritten_ai::testkit::SeededRng;
use unwritten_ai::vocab::ResponseType;

use crate::trace::{Device, Event, Header, Step, Trace};

pub const SCENES: [&str; 6] = ["square", "tavern", "market", "harbour", "forest", "temple"];
pub const NAMES: [&str; 40] = [
    "Ann", "Bram", "Cora", "Dell", "Edda", "Finn", "Greta", "Hal", "Ines", "Jory", "Kara", "Lev", "Mira", "Nils",
    "Orla", "Pim", "Quinn", "Rhea", "Sten", "Tova", "Ulf", "Vera", "Wim", "Xan", "Yara", "Zed", "Abel", "Bea", "Cato",
    "Dina", "Emil", "Fay", "Gus", "Hedy", "Ivo", "Jana", "Kit", "Lise", "Moe", "Nora",
];
const PERSONALITIES: [&str; 8] = [
    "warm, talkative",
    "gruff, loyal",
    "shy, curious",
    "proud, sharp-tongued",
    "cheerful, nosy",
    "tired, kind",
    "suspicious, dry",
    "dreamy, gentle",
];
const TOPICS: [&str; 16] = [
    "your family",
    "the harvest",
    "your past",
    "the old war",
    "your garden",
    "the sea",
    "your craft",
    "the festival",
    "your dreams",
    "the mayor",
    "your travels",
    "the river",
    "your dog",
    "the weather today",
    "the news",
    "your health",
];
/// What anyone in the village can be asked: (kind, topic, importance), as the explorer and the social player ask.
const QUESTIONS: [(ResponseType, &str, f64); 4] = [
    (ResponseType::Question, "rumours", 0.6),
    (ResponseType::Question, "directions", 0.4),
    (ResponseType::Question, "work", 0.5),
    (ResponseType::Question, "weather", 0.3),
];
/// The importance of talk on a character's own topics.
const TOPIC_IMPORTANCE: f64 = 0.6;
/// Within this distance the game offers a character's dialogue menu (`dialogueOptions`).
const MENU_RANGE: f64 = 100.0;
/// 2026-01-05 is a Monday.
pub const MONDAY_MS: f64 = 1_767_571_200_000.0;
pub const HOUR_MS: f64 = 3_600_000.0;
pub const DAY_MS: f64 = 24.0 * HOUR_MS;

pub struct Npc {
    pub id: String,
    pub name: &'static str,
    pub personality: &'static str,
    pub scene: &'static str,
    pub topics: Vec<&'static str>,
}

fn world(rng: &SeededRng) -> Vec<Npc> {
    (0..NAMES.len())
        .map(|i| {
            let mut topics = Vec::new();
            while topics.len() < 4 {
                let t = TOPICS[(rng.next_u64() % TOPICS.len() as u64) as usize];
                if !topics.contains(&t) {
                    topics.push(t);
                }
            }
            Npc {
                id: format!("npc-{i:02}"),
                name: NAMES[i],
                personality: PERSONALITIES[(rng.next_u64() % PERSONALITIES.len() as u64) as usize],
                scene: SCENES[i % SCENES.len()],
                topics,
            }
        })
        .collect()
}

/// Writes a trace event by event.
pub struct Builder {
    pub t: f64,
    events: Vec<Event>,
    pub rng: SeededRng,
    pub npcs: Vec<Npc>,
    scene: Option<String>,
    named: HashSet<String>,
    /// The characters whose menu was offered since the player entered the scene.
    offered: HashSet<String>,
    /// What the generator adds to a character's menu for this visit (a quest's lines, lunch at lunch time).
    pub extras: HashMap<usize, Vec<(ResponseType, String, f64)>>,
    /// The game clock: (t, hour at t, real ms per game hour).
    clock: (f64, f64, f64),
}

impl Builder {
    pub fn new(seed: u64, hour: f64, ms_per_hour: f64) -> Builder {
        let rng = SeededRng::new(seed);
        let npcs = world(&rng);
        let mut b = Builder {
            t: 0.0,
            events: Vec::new(),
            rng,
            npcs,
            scene: None,
            named: HashSet::new(),
            offered: HashSet::new(),
            extras: HashMap::new(),
            clock: (0.0, hour, ms_per_hour),
        };
        b.observe(json!({"type": "player", "playerId": "player-1"}));
        b
    }

    pub fn uniform(&self, lo: f64, hi: f64) -> f64 {
        (lo + (hi - lo) * self.rng.next_f64()).round()
    }

    pub fn chance(&self, p: f64) -> bool {
        self.rng.next_f64() < p
    }

    pub fn push(&mut self, step: Step) {
        self.events.push(Event { t: self.t, step });
    }

    pub fn observe(&mut self, v: Value) {
        self.push(Step::Observe(v));
    }

    pub fn wait(&mut self, ms: f64) {
        self.t += ms;
    }

    pub fn input(&mut self) {
        self.observe(json!({"type": "input"}));
    }

    /// Moves for `ms`, an input every `every` ms.
    pub fn walk(&mut self, ms: f64, every: f64) {
        let end = self.t + ms;
        while self.t < end {
            self.input();
            self.wait(every);
        }
        self.t = end;
    }

    pub fn hour(&self) -> f64 {
        let (t0, h0, per) = self.clock;
        (h0 + (self.t - t0) / per).rem_euclid(24.0)
    }

    pub fn tell_clock(&mut self) {
        let hour = (self.hour() * 100.0).floor() / 100.0;
        self.observe(json!({"type": "clock", "hour": hour}));
    }

    pub fn enter(&mut self, scene: &str) {
        self.scene = Some(scene.to_string());
        self.offered.clear();
        self.observe(json!({"type": "scene", "scene": scene}));
        self.tell_clock();
    }

    pub fn device(&mut self, d: Device) {
        self.push(Step::Device(d));
    }

    /// The characters near the player (indexes into the world, distances); named the first time.
    pub fn nearby(&mut self, list: &[(usize, f64)]) {
        let characters: Vec<Value> = list
            .iter()
            .filter_map(|(i, d)| {
                let n = self.npcs.get(*i)?;
                let mut c = json!({"id": n.id, "distance": d});
                if self.named.insert(n.id.clone()) {
                    c["name"] = json!(n.name);
                    c["personality"] = json!(n.personality);
                }
                Some(c)
            })
            .collect();
        self.observe(json!({"type": "charactersNearby", "characters": characters}));
        for (i, d) in list {
            let Some(id) = self.npcs.get(*i).map(|n| n.id.clone()) else { continue };
            if *d < MENU_RANGE && self.offered.insert(id.clone()) {
                let options: Vec<Value> = self
                    .menu(*i)
                    .into_iter()
                    .map(|(kind, topic, importance)| json!({"responseType": kind, "topic": topic, "importance": importance}))
                    .collect();
                self.observe(json!({"type": "dialogueOptions", "character": {"id": id}, "options": options}));
            }
        }
    }

    /// The game's dialogue menu with a character, which every line the player starts is chosen from: their own
    /// topics, the village's questions, and this visit's extras (an extra replaces an entry of the same line).
    pub fn menu(&self, npc: usize) -> Vec<(ResponseType, String, f64)> {
        let own = self.npcs.get(npc).map(|n| n.topics.clone()).unwrap_or_default();
        let mut menu: Vec<(ResponseType, String, f64)> =
            own.into_iter().map(|t| (ResponseType::Dialogue, t.to_string(), TOPIC_IMPORTANCE)).collect();
        menu.extend(QUESTIONS.iter().map(|(k, t, i)| (*k, t.to_string(), *i)));
        for (kind, topic, importance) in self.extras.get(&npc).cloned().unwrap_or_default() {
            menu.retain(|(k, t, _)| !(*k == kind && *t == topic));
            menu.push((kind, topic, importance));
        }
        menu
    }

    /// The game asks for a line: it reports the moment and sends the request built from it.
    pub fn say(&mut self, npc: usize, kind: ResponseType, topic: Option<&str>, importance: f64) {
        if let (Some(t), ResponseType::Dialogue | ResponseType::Question) = (topic, kind) {
            let on_menu = self.menu(npc).iter().any(|(k, m, _)| *k == kind && m == t);
            assert!(on_menu, "the player chooses from the menu: {t:?} is not on npc {npc}'s");
        }
        let Some(n) = self.npcs.get(npc) else { return };
        let character = Character::new(n.id.clone(), n.name).with_personality(json!(n.personality));
        let mut m = Moment::new(character, kind, topic);
        m.scene = self.scene.clone();
        m.player_id = Some("player-1".into());
        m.importance = importance;
        let talk = json!({"type": "conversation",
            "character": {"id": n.id, "name": n.name, "personality": n.personality},
            "responseType": kind, "topic": topic, "importance": importance});
        self.named.insert(n.id.clone());
        self.observe(talk);
        self.push(Step::Generate(canonical_request(&m)));
    }

    /// Reads the line for `lo..hi` ms (idle), then clicks.
    pub fn read(&mut self, lo: f64, hi: f64) {
        let ms = self.uniform(lo, hi);
        self.wait(ms);
        self.input();
    }

    pub fn scene_npcs(&self, scene: &str) -> Vec<usize> {
        self.npcs.iter().enumerate().filter(|(_, n)| n.scene == scene).map(|(i, _)| i).collect()
    }

    pub fn shuffle(&self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.rng.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }

    pub fn finish(self, player: &str, seed: u64, start_wall_ms: f64, about: &str) -> Trace {
        let header = Header { player: player.into(), seed, start_wall_ms, about: about.into() };
        Trace { header, events: self.events }
    }

    pub fn shuffle_strs(&self, v: &mut [&str]) {
        for i in (1..v.len()).rev() {
            let j = (self.rng.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}
