//! What other scripts, other versions of the game and other tabs can leave in the shared stores and channel:
//! values that do not read back, records of a newer schema, malformed or out-of-range messages. None of it may
//! blind a tier, wipe another version's cache, or break invalidation.
use super::*;
use crate::cache::key::{namespace_hash, parse_storage_key, ANY_SCHEMA_PREFIX, GENERATION_PREFIX};

fn keys_of(store: &MemoryStore) -> Vec<String> {
    block_on(store.keys(ANY_SCHEMA_PREFIX)).unwrap_or_default()
}

fn has(store: &MemoryStore, key: &str) -> bool {
    matches!(block_on(store.get(key)), Ok(Some(_)))
}

fn text_of(cache: &ResponseCache, k: &CacheKey) -> Option<String> {
    block_on(cache.get(k)).map(|h| h.text.to_string())
}

#[test]
fn one_undecodable_value_does_not_blind_its_tier() {
    let f = Fixture::new();
    let cache = f.cache();
    for n in 0..3 {
        block_on(cache.put(&player_key("alice", n), &text(n), 0.9));
    }
    block_on(cache.invalidate_namespace("alice"));
    block_on(cache.put(&player_key("alice", 0), "fresh", 0.9));
    block_on(cache.put(&player_key("bob", 1), &text(1), 0.9));
    // Left by another script: not base64 in localStorage, not bytes in IndexedDB; one under a record key, one
    // under another player's generation key.
    let bad = player_key("bob", 2).storage_key(0);
    let bad_generation = format!("{GENERATION_PREFIX}{}", namespace_hash("mallory"));
    for store in [&f.ls, &f.idb] {
        store.insert_undecodable(&bad, "{not base64}");
        store.insert_undecodable(&bad_generation, "{not base64}");
    }

    let reloaded = f.cache_with(CacheConfig { warm_entries: 0, ..CacheConfig::default() });
    let s = reloaded.stats();
    assert_eq!((s.entries.local_storage, s.entries.indexed_db), (2, 2), "the readable records are indexed: {s:?}");
    assert_eq!(s.undecodable, PerTier { memory: 0, local_storage: 2, indexed_db: 2 }, "counted where found");
    assert_eq!((s.errors.corrupt, s.evictions.corrupt), (2, 2), "the record (not the generation) was dropped");
    for n in 1..3 {
        assert_eq!(tier_of(&reloaded, &player_key("alice", n)), None, "an invalidated line stays invalidated");
    }
    assert_eq!(text_of(&reloaded, &player_key("alice", 0)).as_deref(), Some("fresh"));
    assert_eq!(tier_of(&reloaded, &player_key("bob", 1)), Some(Tier::LocalStorage));
    assert_eq!(tier_of(&reloaded, &player_key("bob", 2)), None);

    block_on(reloaded.sweep());
    for store in [&f.ls, &f.idb] {
        let keys = keys_of(store);
        assert!(!keys.contains(&bad), "the undecodable record is deleted: {keys:?}");
        assert!(
            keys.iter().all(|k| k.starts_with(GENERATION_PREFIX)
                || parse_storage_key(k).is_some_and(|(_, g, _)| g > 0)
                || k == &player_key("bob", 1).storage_key(0)),
            "alice's invalidated records are gone: {keys:?}"
        );
        assert!(has(store, &bad_generation), "the unreadable generation record was replaced by one that reads");
    }
    assert_eq!(f.cache().stats().undecodable, PerTier::default(), "nothing left to find at the next start");
}

#[test]
fn a_generation_record_that_does_not_parse_invalidates_its_namespace() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&player_key("carol", 1), "old", 0.9));
    block_on(cache.invalidate_namespace("carol"));
    block_on(cache.put(&player_key("carol", 2), "current", 0.9));
    let generation_key = format!("{GENERATION_PREFIX}{}", namespace_hash("carol"));
    for store in [&f.ls, &f.idb] {
        store.insert_raw(&generation_key, b"one");
    }
    let reloaded = f.cache_with(CacheConfig { warm_entries: 0, ..CacheConfig::default() });
    // What generation 1 meant is lost: a miss is better than serving a line invalidated before it.
    assert_eq!(tier_of(&reloaded, &player_key("carol", 1)), None);
    assert_eq!(tier_of(&reloaded, &player_key("carol", 2)), None);
    assert_eq!(reloaded.stats().errors.corrupt, 2, "one per tier");
    for store in [&f.ls, &f.idb] {
        assert_eq!(block_on(store.get(&generation_key)), Ok(Some(b"2".to_vec())), "above every record's generation");
    }
    block_on(reloaded.put(&player_key("carol", 2), "new", 0.9));
    assert_eq!(text_of(&f.cache(), &player_key("carol", 2)).as_deref(), Some("new"));
}

#[test]
fn records_of_a_newer_schema_or_record_version_are_left_alone() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put(&key(1), &text(1), 0.9));
    let current = key(1).storage_key(0);
    let bytes = block_on(f.idb.get(&current)).ok().flatten().unwrap_or_default();
    // Another version of the game, in another tab or before a rollback.
    let newer = current.replacen("rc1/", "rc2/", 1);
    let much_newer = current.replacen("rc1/", "rc10/", 1);
    let older = current.replacen("rc1/", "rc0/", 1);
    let mut next_version = bytes.clone();
    next_version[2] += 1;
    let next_version_key = key(2).storage_key(0);
    for store in [&f.ls, &f.idb] {
        for k in [&newer, &much_newer, &older] {
            store.insert_raw(k, &bytes);
        }
        store.insert_raw(&next_version_key, &next_version);
    }

    let reloaded = f.cache();
    for store in [&f.ls, &f.idb] {
        assert!(has(store, &newer) && has(store, &much_newer), "a newer schema's records survive our start");
        assert!(has(store, &next_version_key), "so does a record of a newer record version");
        assert!(!has(store, &older), "an older schema's record is deleted");
    }
    assert_eq!(tier_of(&reloaded, &key(2)), None, "a newer record version is not ours to read");
    assert!(has(&f.ls, &next_version_key) && has(&f.idb, &next_version_key), "nor to delete");
    assert_eq!(reloaded.stats().errors.corrupt, 0);
    assert_eq!(text_of(&reloaded, &key(1)), Some(text(1)), "our own record still serves");

    block_on(reloaded.clear());
    for store in [&f.ls, &f.idb] {
        assert!(has(store, &newer) && has(store, &much_newer), "clearCache leaves the newer version's cache");
        assert!(!has(store, &current), "and clears ours");
    }
}

#[test]
fn a_generation_message_at_the_top_of_the_range_is_ignored_and_invalidation_still_works() {
    let f = Fixture::new();
    let cache = f.cache();
    let rogue = f.hub.endpoint();
    block_on(cache.put(&player_key("p", 1), "old", 0.9));
    rogue.post(&format!("cache:gen:{}:{}", namespace_hash("p"), u32::MAX));
    assert_eq!(tier_of(&cache, &player_key("p", 1)), Some(Tier::Memory), "the message was ignored");
    assert_eq!(cache.stats().rejected_messages, 1);
    block_on(cache.invalidate_namespace("p"));
    assert_eq!(tier_of(&cache, &player_key("p", 1)), None, "invalidation still works");
    block_on(cache.put(&player_key("p", 1), "new", 0.9));
    assert_eq!(text_of(&f.cache(), &player_key("p", 1)).as_deref(), Some("new"));
}

#[test]
fn malformed_messages_are_ignored_and_good_ones_still_apply() {
    let f = Fixture::new();
    let cache = f.cache();
    let rogue = f.hub.endpoint();
    let ns = namespace_hash("p");
    block_on(cache.put(&player_key("p", 1), "line", 0.1));
    let bad = [
        String::new(),
        "cache:clear ".into(),
        "cache:gen:".into(),
        format!("cache:gen:{ns}"),
        format!("cache:gen:{ns}:"),
        format!("cache:gen:{ns}:-1"),
        format!("cache:gen:{ns}:+1"),
        format!("cache:gen:{ns}:1x"),
        format!("cache:gen:{ns}:1:2"),
        format!("cache:gen:{}:1", ns.to_uppercase()),
        "cache:gen:zz:1".into(),
        format!("cache:gen:{ns}:99999999999"),
        format!("cache:gen:{ns}:1{}", " ".repeat(100_000)),
    ];
    for m in &bad {
        rogue.post(m);
    }
    assert_eq!(tier_of(&cache, &player_key("p", 1)), Some(Tier::Memory), "none of them applied");
    assert_eq!(cache.stats().rejected_messages, bad.len() as u64);
    rogue.post(&format!("cache:gen:{ns}:1"));
    assert_eq!(tier_of(&cache, &player_key("p", 1)), None, "a well-formed invalidation applies");
    block_on(cache.put(&player_key("p", 2), "line", 0.1));
    rogue.post("cache:clear");
    assert_eq!(tier_of(&cache, &player_key("p", 2)), None, "and so does a clear");
    assert_eq!(cache.stats().rejected_messages, bad.len() as u64, "neither was counted");
}
