//! The cloud budget's record in storage, through the runtime on the fakes.
#![cfg(not(target_arch = "wasm32"))]

use std::rc::Rc;

use pollster::block_on;
use serde_json::json;
use unwritten_ai::ports::{KvStore, Ports};
use unwritten_ai::runtime::Runtime;
use unwritten_ai::testkit::{fake_ports, FakeClock, MemoryStore, ScriptedHttp};
use unwritten_ai::Config;

fn chat(text: &str) -> String {
    json!({"choices": [{"message": {"content": text}}], "usage": {"prompt_tokens": 100, "completion_tokens": 20}})
        .to_string()
}

fn ports(clock: &FakeClock, local: &Rc<MemoryStore>, http: Rc<ScriptedHttp>) -> Ports {
    Ports { local_storage: Some(local.clone() as Rc<dyn KvStore>), indexed_db: None, http, ..fake_ports(clock) }
}

fn config(namespace: &str) -> Config {
    let c = json!({"namespace": namespace, "storage": {"indexedDb": false}, "model": {"strategy": "cloudOnly"},
                   "cloud": {"providers": {"gateway": {"kind": "openai", "baseUrl": "https://mock/v1"}}}});
    serde_json::from_value(c).unwrap()
}

#[test]
fn a_namespace_that_looks_like_a_cache_prefix_keeps_its_spend_through_clear_cache_and_a_restart() {
    for ns in ["rc", "rc1", "rcg", "rcfoo"] {
        let clock = FakeClock::default();
        let local = Rc::new(MemoryStore::new("localStorage"));
        let http = Rc::new(ScriptedHttp::new());
        http.respond(200, &chat("Well met, traveller."));
        let rt = block_on(Runtime::start(config(ns), ports(&clock, &local, http), None)).unwrap();
        let line = block_on(rt.generate(json!({"npc": {"id": "a", "name": "Ann"}, "importance": 0.9}))).unwrap();
        assert!(line.cost_usd > 0.0, "{ns}: {line:?}");
        let spent = rt.metrics().unwrap().router.cost.spent_usd;
        block_on(rt.clear_cache()).unwrap();
        drop(rt);
        let again =
            block_on(Runtime::start(config(ns), ports(&clock, &local, Rc::new(ScriptedHttp::new())), None)).unwrap();
        assert_eq!(again.metrics().unwrap().router.cost.spent_usd, spent, "{ns}: the day's spend survived");
    }
}
