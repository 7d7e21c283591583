//! A per-entry TTL (`put_for`, a pre-generated line's): every tier keeps the entry at most that long, after a
//! reload too, and the sweep removes it then.
use super::*;

const HOUR: f64 = 60.0 * MIN;

fn expiry(store: &MemoryStore) -> Vec<f64> {
    Fixture::records(store)
        .iter()
        .map(|(_, bytes)| record::Record::decode(bytes).map_or(-1.0, |r| r.expires_at))
        .collect()
}

#[test]
fn an_entry_ttl_shorter_than_the_tiers_holds_in_every_tier_and_after_a_reload() {
    let f = Fixture::new();
    let cache = f.cache();
    let t0 = f.clock.wall_ms();
    block_on(cache.put_for(&key(1), &text(1), 0.9, Some(2.0 * HOUR)));
    assert_eq!(expiry(&f.ls), [t0 + 2.0 * HOUR], "the record carries the entry's time, not 7 days");
    assert_eq!(expiry(&f.idb), [t0 + 2.0 * HOUR], "nor 30 days");
    f.clock.advance(5.0 * MIN);
    assert_eq!(tier_of(&cache, &key(1)), Some(Tier::LocalStorage), "memory's 5 min is shorter: its own TTL");
    f.clock.advance(2.0 * HOUR - 5.0 * MIN - 1.0);
    let reloaded = f.cache();
    assert!(tier_of(&reloaded, &key(1)).is_some(), "a reload reads the record's time (and warms memory with it)");
    f.clock.advance(1.0);
    assert_eq!(tier_of(&reloaded, &key(1)), None, "expired with its promoted memory copy");
    assert_eq!(tier_of(&cache, &key(1)), None);
    let again = f.cache();
    assert_eq!(tier_of(&again, &key(1)), None, "never served late after a reload");
}

#[test]
fn a_greeting_ttl_of_5_minutes_ends_it_everywhere_and_the_sweep_deletes_the_records() {
    let f = Fixture::new();
    let cache = f.cache();
    block_on(cache.put_for(&key(1), &text(1), 0.8, Some(5.0 * MIN)));
    block_on(cache.put(&key(2), &text(2), 0.8));
    f.clock.advance(5.0 * MIN);
    block_on(cache.sweep());
    let s = cache.stats();
    assert_eq!((s.entries.memory, s.entries.local_storage, s.entries.indexed_db), (0, 1, 1));
    assert_eq!(Fixture::records(&f.ls).len(), 1, "only the entry with the tier's TTL is left");
    assert!(!block_on(cache.holds(&key(1))));
}

#[test]
fn a_longer_or_meaningless_entry_ttl_is_the_tiers_own() {
    let f = Fixture::new();
    let cache = f.cache();
    let t0 = f.clock.wall_ms();
    block_on(cache.put_for(&key(1), &text(1), 0.9, Some(90.0 * DAY)));
    assert_eq!(expiry(&f.idb), [t0 + 30.0 * DAY], "never longer than the tier keeps anything");
    for (n, bad) in [(2, f64::NAN), (3, 0.0), (4, -5.0), (5, f64::INFINITY)] {
        block_on(cache.put_for(&key(n), &text(n), 0.5, Some(bad)));
    }
    assert!(expiry(&f.ls).iter().all(|e| *e == t0 + 7.0 * DAY), "{:?}", expiry(&f.ls));
}
