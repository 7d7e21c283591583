//! Cache keys: a canonical SHA-256 digest of everything that determines a response.
//!
//! Two requests that must get the same response get the same key whatever order their context fields were given
//! in; anything that can change the response (request type, character, the context fields that matter, model
//! version, player namespace) is part of the digest. The player namespace is kept apart (hashed) so a whole
//! namespace can be invalidated at once by bumping its generation (see `ResponseCache::invalidate_namespace`).
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Bumped when the record layout or the key derivation changes: old records then live under another prefix and
/// are never read again (the sweep deletes them).
pub const SCHEMA: u32 = 1;
/// The prefix of every cache record in a store.
pub const RECORD_PREFIX: &str = "rc1/";
/// The prefix of every cache record of any schema, so the sweep can find records of older schemas.
pub const ANY_SCHEMA_PREFIX: &str = "rc";
/// The prefix of the generation records (one per player namespace).
pub const GENERATION_PREFIX: &str = "rcg/";

/// What determines a response. Build one with [`CacheKey::builder`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// 8 hex chars: the hashed player namespace (the unit of invalidation).
    namespace: String,
    /// 32 hex chars: 128 bits of the SHA-256 of the canonical encoding.
    digest: String,
}

/// Collects the parts of a [`CacheKey`]; fields may be added in any order.
#[derive(Debug, Clone, Default)]
pub struct CacheKeyBuilder {
    request_type: String,
    character: String,
    model_version: String,
    player: String,
    fields: BTreeMap<String, String>,
}

impl CacheKeyBuilder {
    pub fn model_version(mut self, version: impl Into<String>) -> Self {
        self.model_version = version.into();
        self
    }

    /// The player namespace (a player, a save slot): the unit of `invalidate_namespace`.
    pub fn player(mut self, namespace: impl Into<String>) -> Self {
        self.player = namespace.into();
        self
    }

    /// A context field that changes the response (mood, location, quest stage...). A later value for the same
    /// name replaces the earlier one.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    pub fn build(self) -> CacheKey {
        let mut h = Sha256::new();
        // Length-prefixed parts: ("ab","c") and ("a","bc") must not collide.
        let mut part = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        part(&format!("schema{SCHEMA}"));
        part(&self.request_type);
        part(&self.character);
        part(&self.model_version);
        part(&self.player);
        for (name, value) in &self.fields {
            part(name);
            part(value);
        }
        let digest = h.finalize();
        CacheKey { namespace: namespace_hash(&self.player), digest: hex(&digest[..16]) }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The 8-hex-char tag of a player namespace, as it appears in storage keys.
pub fn namespace_hash(player: &str) -> String {
    let d = Sha256::digest(player.as_bytes());
    hex(&d[..4])
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl CacheKey {
    pub fn builder(request_type: impl Into<String>, character: impl Into<String>) -> CacheKeyBuilder {
        CacheKeyBuilder { request_type: request_type.into(), character: character.into(), ..Default::default() }
    }

    /// The compact string form handed to JavaScript: `"{namespace}.{digest}"` (41 chars).
    pub fn id(&self) -> String {
        format!("{}.{}", self.namespace, self.digest)
    }

    /// Parses [`CacheKey::id`]. Anything else is an `InvalidRequest` naming `key`.
    pub fn parse_id(id: &str) -> Result<CacheKey, Error> {
        match id.split_once('.') {
            Some((ns, digest)) if is_hex(ns, 8) && is_hex(digest, 32) => {
                Ok(CacheKey { namespace: ns.to_string(), digest: digest.to_string() })
            }
            _ => Err(Error::invalid_request(
                "key",
                format!("{id:?} is not a cache key; make one with ai.cacheKey({{ type, character, ... }})"),
            )),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The storage key of this entry in generation `generation` of its namespace.
    pub fn storage_key(&self, generation: u32) -> String {
        // Built by hand: on every lookup, and `format!` costs more here than the rest of a memory hit.
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut g = generation;
        loop {
            at -= 1;
            digits[at] = b'0' + (g % 10) as u8;
            g /= 10;
            if g == 0 {
                break;
            }
        }
        let mut key = String::with_capacity(RECORD_PREFIX.len() + self.namespace.len() + 12 + self.digest.len());
        key.push_str(RECORD_PREFIX);
        key.push_str(&self.namespace);
        key.push('/');
        for &d in &digits[at..] {
            key.push(char::from(d));
        }
        key.push('/');
        key.push_str(&self.digest);
        key
    }
}

/// A key's parts as a game gives them (`ai.cacheKey({...})`), camelCase.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CacheKeyParts {
    #[serde(rename = "type")]
    pub request_type: String,
    pub character: String,
    #[serde(default)]
    pub model_version: String,
    #[serde(default)]
    pub player: String,
    /// The context fields that change the response; values are strings, numbers or booleans.
    #[serde(default)]
    pub context: BTreeMap<String, serde_json::Value>,
}

impl CacheKeyParts {
    /// Parses and builds the key; a bad part is an `InvalidRequest` naming it (e.g. `context.mood`).
    pub fn parse(value: serde_json::Value) -> Result<CacheKey, Error> {
        let parts: CacheKeyParts = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { "key".to_string() } else { path };
            Error::invalid_request(field, e.into_inner().to_string())
        })?;
        let mut b = CacheKey::builder(parts.request_type, parts.character)
            .model_version(parts.model_version)
            .player(parts.player);
        for (name, value) in parts.context {
            let text = match value {
                serde_json::Value::String(s) => format!("s:{s}"),
                v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_) | serde_json::Value::Null) => {
                    format!("j:{v}")
                }
                _ => {
                    return Err(Error::invalid_request(
                        format!("context.{name}"),
                        "must be a string, number, boolean or null",
                    ))
                }
            };
            b = b.field(name, text);
        }
        Ok(b.build())
    }
}

/// Which version of the cache a key under [`ANY_SCHEMA_PREFIX`] belongs to, which decides whether this version
/// may delete it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySchema {
    /// `rcg/{namespace}`: a generation record (shared by every schema).
    Generation,
    /// `rc1/...`: ours.
    Current,
    /// `rc0/...`: an older version's; never read again, so deleted.
    Older,
    /// `rc2/...`: a newer version's (another tab runs it, or the game was rolled back); left alone.
    Newer,
    /// Anything else under `rc`: not known to be anyone's leftovers; left alone.
    Unknown,
}

/// The [`KeySchema`] of a store key. "Newer" is by the number after `rc`, compared as a number (as text, `rc10/`
/// would sort before `rc9/`): [`SCHEMA`] only ever goes up, so a larger one was written by a later build.
pub fn key_schema(key: &str) -> KeySchema {
    if key.starts_with(GENERATION_PREFIX) {
        return KeySchema::Generation;
    }
    let Some((digits, _)) = key.strip_prefix(ANY_SCHEMA_PREFIX).and_then(|rest| rest.split_once('/')) else {
        return KeySchema::Unknown;
    };
    // Only the canonical decimal a build writes ("rc01/" is nobody's).
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return KeySchema::Unknown;
    }
    match digits.parse::<u32>() {
        Ok(n) if n < SCHEMA => KeySchema::Older,
        Ok(n) if n == SCHEMA => KeySchema::Current,
        // Too many digits for a u32 is a larger number still.
        _ => KeySchema::Newer,
    }
}

/// The namespace of a generation record's key (`rcg/{8 hex}`), if it is one.
pub fn parse_generation_key(key: &str) -> Option<&str> {
    key.strip_prefix(GENERATION_PREFIX).filter(|ns| is_hex(ns, 8))
}

/// Whether `ns` has the form of a hashed player namespace (8 lowercase hex digits).
pub fn is_namespace(ns: &str) -> bool {
    is_hex(ns, 8)
}

/// The parts of a storage key written by this schema: (namespace, generation, digest).
pub fn parse_storage_key(key: &str) -> Option<(&str, u32, &str)> {
    let rest = key.strip_prefix(RECORD_PREFIX)?;
    let mut parts = rest.split('/');
    let (ns, generation, digest) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_hex(ns, 8) || !is_hex(digest, 32) {
        return None;
    }
    Some((ns, generation.parse().ok()?, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greeting() -> CacheKeyBuilder {
        CacheKey::builder("greeting", "blacksmith").model_version("m1").player("p1")
    }

    #[test]
    fn field_order_does_not_matter_but_every_part_does() {
        let a = greeting().field("mood", "angry").field("place", "forge").build();
        let b = greeting().field("place", "forge").field("mood", "angry").build();
        assert_eq!(a, b);
        let variants = [
            greeting().field("mood", "calm").field("place", "forge").build(),
            greeting().model_version("m2").field("mood", "angry").field("place", "forge").build(),
            greeting().player("p2").field("mood", "angry").field("place", "forge").build(),
            CacheKey::builder("farewell", "blacksmith").model_version("m1").player("p1").build(),
            CacheKey::builder("greeting", "baker").model_version("m1").player("p1").build(),
            greeting().field("moo", "dangry").field("place", "forge").build(),
        ];
        for v in &variants {
            assert_ne!(&a, v);
        }
    }

    #[test]
    fn ids_round_trip_and_garbage_is_an_invalid_request() {
        let key = greeting().build();
        assert_eq!(key.id().len(), 41);
        assert_eq!(CacheKey::parse_id(&key.id()).ok(), Some(key.clone()));
        for bad in ["", "x", "0123abcd.zz", &key.id().to_uppercase(), &format!("{}0", key.id())] {
            assert!(matches!(CacheKey::parse_id(bad), Err(Error::InvalidRequest { ref field, .. }) if field == "key"));
        }
    }

    #[test]
    fn parts_from_a_game_build_canonical_keys_and_bad_parts_are_named() {
        use serde_json::json;
        let a =
            CacheKeyParts::parse(json!({"type": "greeting", "character": "smith", "context": {"mood": "sad", "n": 1}}));
        let b =
            CacheKeyParts::parse(json!({"context": {"n": 1, "mood": "sad"}, "character": "smith", "type": "greeting"}));
        assert_eq!(a.as_ref().ok(), b.as_ref().ok());
        assert!(a.is_ok());
        let c = CacheKeyParts::parse(
            json!({"type": "greeting", "character": "smith", "context": {"mood": "sad", "n": "1"}}),
        );
        assert_ne!(a.ok(), c.ok(), "the number 1 and the string \"1\" differ");
        let field = |v| match CacheKeyParts::parse(v) {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(field(json!({"type": "greeting"})), "key", "missing character");
        assert_eq!(field(json!({"type": "g", "character": "c", "playr": "x"})), "playr");
        assert_eq!(field(json!({"type": "g", "character": "c", "context": {"pos": [1, 2]}})), "context.pos");
        assert_eq!(field(json!({"type": 3, "character": "c"})), "type");
    }

    #[test]
    fn storage_keys_carry_namespace_and_generation() {
        let key = greeting().build();
        let sk = key.storage_key(7);
        assert!(sk.starts_with(RECORD_PREFIX));
        assert_eq!(parse_storage_key(&sk), Some((key.namespace(), 7, key.digest())));
        assert_eq!(parse_storage_key("rc1/zz/1/x"), None);
        assert_eq!(parse_storage_key("rc0/whatever"), None);
        assert_eq!(key.namespace(), greeting().field("x", "y").build().namespace(), "namespace = player only");
        assert_eq!(parse_generation_key(&format!("{GENERATION_PREFIX}{}", key.namespace())), Some(key.namespace()));
        assert_eq!(parse_generation_key("rcg/nothex00"), None);
        for g in [0, 9, 10, 4_096, u32::MAX] {
            let want = format!("{RECORD_PREFIX}{}/{g}/{}", key.namespace(), key.digest());
            assert_eq!(key.storage_key(g), want);
        }
    }

    #[test]
    fn schemas_are_told_apart_by_their_number() {
        use KeySchema::*;
        assert_eq!(RECORD_PREFIX, format!("{ANY_SCHEMA_PREFIX}{SCHEMA}/"));
        let sk = greeting().build().storage_key(3);
        assert_eq!(key_schema(&sk), Current);
        assert_eq!(key_schema("rc1/garbage"), Current, "ours, whatever follows");
        assert_eq!(key_schema("rcg/0123abcd"), Generation);
        assert_eq!(key_schema("rc0/0123abcd/0/x"), Older);
        for newer in ["rc2/x", "rc10/x", "rc4294967296/x", "rc99999999999999999999/x"] {
            assert_eq!(key_schema(newer), Newer, "{newer}");
        }
        for unknown in ["rc", "rc1", "rc/x", "rc01/x", "rc00/x", "rcx/1", "rc+2/x", "rc 2/x", "rc-1/x", "other"] {
            assert_eq!(key_schema(unknown), Unknown, "{unknown}");
        }
    }
}
