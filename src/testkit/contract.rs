//! The behaviour every [`KvStore`] must have. Run natively against the fakes and in real browsers against
//! localStorage and IndexedDB, so the fakes cannot drift from what browsers do.
use crate::ports::KvStore;

/// Exercises `store` under keys that start with `prefix` (use a fresh prefix per run) and asserts the contract.
pub async fn kv_store_contract(store: &dyn KvStore, prefix: &str) {
    let key = |k: &str| format!("{prefix}{k}");
    let name = store.name().to_string();

    assert_eq!(store.get(&key("missing")).await, Ok(None), "{name}: a missing key reads as None");
    assert_eq!(store.keys(prefix).await, Ok(vec![]), "{name}: a fresh prefix has no keys");

    // Bytes round-trip exactly, including every byte value and the empty value.
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    assert_eq!(store.put(&key("bytes"), &all_bytes).await, Ok(()));
    assert_eq!(store.get(&key("bytes")).await, Ok(Some(all_bytes.clone())), "{name}: all byte values survive");
    assert_eq!(store.put(&key("empty"), b"").await, Ok(()));
    assert_eq!(store.get(&key("empty")).await, Ok(Some(vec![])), "{name}: empty value is not missing");

    // Overwrite replaces; unicode keys work.
    assert_eq!(store.put(&key("bytes"), b"second").await, Ok(()));
    assert_eq!(store.get(&key("bytes")).await, Ok(Some(b"second".to_vec())), "{name}: put overwrites");
    assert_eq!(store.put(&key("ключ-😀"), b"u").await, Ok(()));
    assert_eq!(store.get(&key("ключ-😀")).await, Ok(Some(b"u".to_vec())), "{name}: unicode keys");

    // keys() filters by prefix and returns full keys.
    let mut keys = store.keys(prefix).await.unwrap_or_default();
    keys.sort();
    let mut expected = vec![key("bytes"), key("empty"), key("ключ-😀")];
    expected.sort();
    assert_eq!(keys, expected, "{name}: keys under the prefix");
    assert_eq!(store.keys(&key("b")).await, Ok(vec![key("bytes")]), "{name}: narrower prefix");

    // Delete removes; deleting a missing key is not an error.
    assert_eq!(store.delete(&key("bytes")).await, Ok(()));
    assert_eq!(store.get(&key("bytes")).await, Ok(None), "{name}: deleted");
    assert_eq!(store.delete(&key("never-existed")).await, Ok(()), "{name}: delete of a missing key");

    for k in expected {
        let _ = store.delete(&k).await;
    }
    assert_eq!(store.keys(prefix).await, Ok(vec![]), "{name}: clean after the run");
}
