//! The runtime's configuration: one object, camelCase, every option defaulted, validated once at `create`.
//! Each section lives here, below every subsystem that reads it: `cloud.rs` (the router's), `model.rs`,
//! `flags.rs`, `monitor.rs`, `pregen.rs`.
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;

mod check;
pub mod cloud;
pub mod flags;
mod model;
pub mod monitor;
pub mod pregen;
pub mod steering;

pub use cloud::CloudConfig;
pub use flags::FlagsConfig;
pub use model::{ModelConfig, ShadowConfig, UpdateConfig};
pub use monitor::MonitorConfig;
pub use pregen::PregenConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Config {
    /// Prefix of every key this runtime writes to localStorage and of its IndexedDB database name, so several
    /// games (or saves) on one origin keep apart. 1-32 characters of a-z, 0-9, '-' and '_'.
    pub namespace: String,
    pub storage: StorageConfig,
    pub cache: CacheConfig,
    /// Cloud providers, routing, deadlines, breakers, batching and budget (`cloud.rs`).
    pub cloud: cloud::CloudConfig,
    /// The local model: when it is loaded and where from (`model.rs`).
    pub model: ModelConfig,
    /// Feature flags, experiments and rollouts (`flags.rs`).
    pub flags: FlagsConfig,
    /// The performance monitor: its window, report period, targets and alert lines (`monitor.rs`).
    pub monitor: MonitorConfig,
    /// Idle-time predictive pre-generation (`pregen.rs`).
    pub pregen: PregenConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Use localStorage when the browser allows it.
    pub local_storage: bool,
    /// Use IndexedDB when the browser allows it.
    pub indexed_db: bool,
}

/// The three-tier response cache (the design's HybridCacheSystem; its numbers are the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CacheConfig {
    #[serde(deserialize_with = "memory_tier")]
    pub memory: CacheTierConfig,
    #[serde(deserialize_with = "local_storage_tier")]
    pub local_storage: CacheTierConfig,
    #[serde(deserialize_with = "indexed_db_tier")]
    pub indexed_db: CacheTierConfig,
    /// How many of the most used IndexedDB entries the warmer loads into memory at start.
    pub warm_entries: u32,
    /// How often expired entries are swept out of every tier (and hit counts written back), ms.
    pub sweep_interval_ms: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheTierConfig {
    /// At most this many entries; 0 turns the tier off.
    pub max_entries: u32,
    /// Time to live, ms.
    pub ttl_ms: f64,
    /// Byte budget (memory: UTF-8 text and keys; storage: compressed records and keys). IndexedDB's is further
    /// capped to half the space navigator.storage.estimate() reports free.
    pub max_bytes: f64,
    /// An entry goes into this tier only if its importance (0..=1) is at least this.
    pub min_importance: f64,
}

const MINUTE_MS: f64 = 60_000.0;
const DAY_MS: f64 = 24.0 * 60.0 * MINUTE_MS;
const MB: f64 = 1024.0 * 1024.0;

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            memory: CacheTierConfig {
                max_entries: 100,
                ttl_ms: 5.0 * MINUTE_MS,
                max_bytes: 10.0 * MB,
                min_importance: 0.0,
            },
            // localStorage is ~5 MB per origin and shared with the game; base64 makes 2 MB of records ~2.7 MB.
            local_storage: CacheTierConfig {
                max_entries: 1_000,
                ttl_ms: 7.0 * DAY_MS,
                max_bytes: 2.0 * MB,
                min_importance: 0.3,
            },
            indexed_db: CacheTierConfig {
                max_entries: 10_000,
                ttl_ms: 30.0 * DAY_MS,
                max_bytes: 50.0 * MB,
                min_importance: 0.7,
            },
            warm_entries: 50,
            sweep_interval_ms: 60_000,
        }
    }
}

/// A tier's options as given: every field optional, merged onto that tier's own defaults (a plain
/// `#[serde(default)]` would take one default for all three tiers).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CacheTierPatch {
    max_entries: Option<u32>,
    ttl_ms: Option<f64>,
    max_bytes: Option<f64>,
    min_importance: Option<f64>,
}

fn merge_tier<'de, D: Deserializer<'de>>(d: D, base: CacheTierConfig) -> Result<CacheTierConfig, D::Error> {
    let p = CacheTierPatch::deserialize(d)?;
    Ok(CacheTierConfig {
        max_entries: p.max_entries.unwrap_or(base.max_entries),
        ttl_ms: p.ttl_ms.unwrap_or(base.ttl_ms),
        max_bytes: p.max_bytes.unwrap_or(base.max_bytes),
        min_importance: p.min_importance.unwrap_or(base.min_importance),
    })
}

fn memory_tier<'de, D: Deserializer<'de>>(d: D) -> Result<CacheTierConfig, D::Error> {
    merge_tier(d, CacheConfig::default().memory)
}

fn local_storage_tier<'de, D: Deserializer<'de>>(d: D) -> Result<CacheTierConfig, D::Error> {
    merge_tier(d, CacheConfig::default().local_storage)
}

fn indexed_db_tier<'de, D: Deserializer<'de>>(d: D) -> Result<CacheTierConfig, D::Error> {
    merge_tier(d, CacheConfig::default().indexed_db)
}

impl CacheConfig {
    fn validate(&self) -> Result<(), Error> {
        let tiers = [("memory", &self.memory), ("localStorage", &self.local_storage), ("indexedDb", &self.indexed_db)];
        for (name, t) in tiers {
            let field = |f: &str| format!("cache.{name}.{f}");
            if !(t.ttl_ms.is_finite() && t.ttl_ms > 0.0) {
                return Err(Error::invalid_config(field("ttlMs"), "must be a positive number of milliseconds"));
            }
            if !(t.max_bytes.is_finite() && t.max_bytes >= 1024.0) {
                return Err(Error::invalid_config(field("maxBytes"), "must be at least 1024 bytes"));
            }
            if !(0.0..=1.0).contains(&t.min_importance) {
                return Err(Error::invalid_config(field("minImportance"), "must be between 0 and 1"));
            }
        }
        if self.sweep_interval_ms < 1_000 {
            return Err(Error::invalid_config("cache.sweepIntervalMs", "must be at least 1000 ms"));
        }
        check::timer_ms("cache.sweepIntervalMs", self.sweep_interval_ms)?;
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            namespace: "unwritten".into(),
            storage: StorageConfig::default(),
            cache: CacheConfig::default(),
            cloud: Default::default(),
            model: Default::default(),
            flags: Default::default(),
            monitor: Default::default(),
            pregen: Default::default(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { local_storage: true, indexed_db: true }
    }
}

impl Config {
    /// Parses a config given as JSON (what the JS facade passes). A key set to `null` — JS `undefined` arrives as
    /// null — means "use the default", as `{ cache: undefined }` does in JavaScript.
    pub fn from_json(mut value: serde_json::Value) -> Result<Config, Error> {
        fn drop_nulls(v: &mut serde_json::Value) {
            if let serde_json::Value::Object(map) = v {
                map.retain(|_, x| !x.is_null());
                map.values_mut().for_each(drop_nulls);
            }
        }
        drop_nulls(&mut value);
        Config::parse(value)
    }

    /// Parses and validates a config from any serde source (a JS object through serde-wasm-bindgen in the browser,
    /// JSON in tests). Errors name the offending field by its dotted path.
    pub fn parse<'de, D: Deserializer<'de>>(source: D) -> Result<Config, Error> {
        let config: Config = serde_path_to_error::deserialize(source).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            Error::invalid_config(field_of(&path), explain(&inner))
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), Error> {
        self.cache.validate()?;
        self.cloud.validate()?;
        self.model.validate()?;
        self.flags.validate()?;
        self.monitor.validate()?;
        self.pregen.validate()?;
        let ns = &self.namespace;
        let ok_chars = ns.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ns.is_empty() || ns.len() > 32 || !ok_chars {
            return Err(Error::invalid_config(
                "namespace",
                format!("got {ns:?}; use 1-32 characters of a-z, 0-9, '-' and '_' (default \"unwritten\")"),
            ));
        }
        Ok(())
    }
}

/// serde_path_to_error's path ends at the offending key (unknown keys included); "." is the config itself.
fn field_of(path: &str) -> String {
    if path == "." {
        "(config)".to_string()
    } else {
        path.to_string()
    }
}

fn explain(inner: &str) -> String {
    if inner.starts_with("unknown field") {
        format!("{inner}. Remove it or fix its spelling")
    } else {
        inner.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Config, Error> {
        Config::parse(v)
    }

    fn field_and_message(r: Result<Config, Error>) -> (String, String) {
        match r {
            Err(Error::InvalidConfig { field, message }) => (field, message),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn null_members_mean_defaults() {
        let c = Config::from_json(json!({"namespace": null, "storage": {"localStorage": null, "indexedDb": false}}));
        let c = c.unwrap();
        assert_eq!(c.namespace, "unwritten");
        assert!(c.storage.local_storage && !c.storage.indexed_db);
        assert!(Config::from_json(json!({"namespce": null})).is_ok(), "an unset misspelled key is harmless");
    }

    #[test]
    fn empty_object_gives_defaults() {
        assert_eq!(parse(json!({})).ok(), Some(Config::default()));
    }

    #[test]
    fn null_is_rejected_with_a_hint() {
        // The JS facade maps `undefined`/`null` to `{}` before parsing; a non-object here is a caller bug.
        let (field, message) = field_and_message(parse(json!(42)));
        assert_eq!(field, "(config)");
        assert!(message.contains("struct Config"), "{message}");
    }

    #[test]
    fn known_fields_are_read_in_camel_case() {
        let c = parse(json!({"namespace": "save-2", "storage": {"localStorage": false}})).ok();
        let c = c.unwrap_or_default();
        assert_eq!(c.namespace, "save-2");
        assert!(!c.storage.local_storage);
        assert!(c.storage.indexed_db, "unset nested fields keep their defaults");
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let (field, message) = field_and_message(parse(json!({"namespce": "x"})));
        assert_eq!(field, "namespce");
        assert!(message.contains("expected one of") || message.contains("expected `"), "{message}");
        assert!(message.contains("namespace"), "lists the allowed keys: {message}");
    }

    #[test]
    fn unknown_nested_key_is_named_with_its_path() {
        let (field, _) = field_and_message(parse(json!({"storage": {"indexedDB": true}})));
        assert_eq!(field, "storage.indexedDB");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let (field, message) = field_and_message(parse(json!({"storage": {"localStorage": "yes"}})));
        assert_eq!(field, "storage.localStorage");
        assert!(message.contains("boolean"), "{message}");
    }

    #[test]
    fn cache_defaults_are_the_design_numbers_and_tiers_merge_per_tier() {
        let c = CacheConfig::default();
        assert_eq!((c.memory.max_entries, c.memory.ttl_ms), (100, 300_000.0));
        assert_eq!((c.local_storage.max_entries, c.local_storage.ttl_ms), (1_000, 7.0 * DAY_MS));
        assert_eq!((c.indexed_db.max_entries, c.indexed_db.ttl_ms), (10_000, 30.0 * DAY_MS));
        assert_eq!((c.local_storage.min_importance, c.indexed_db.min_importance), (0.3, 0.7));
        assert_eq!(c.memory.max_bytes, 10.0 * MB);
        let c = parse(json!({"cache": {"localStorage": {"maxEntries": 5}, "warmEntries": 3}})).unwrap_or_default();
        assert_eq!(c.cache.local_storage.max_entries, 5);
        assert_eq!(c.cache.local_storage.ttl_ms, 7.0 * DAY_MS, "unset fields keep this tier's default");
        assert_eq!(c.cache.local_storage.min_importance, 0.3);
        assert_eq!(c.cache.indexed_db, CacheConfig::default().indexed_db);
        assert_eq!(c.cache.warm_entries, 3);
    }

    #[test]
    fn bad_cache_options_name_their_field() {
        let cases = [
            (json!({"cache": {"memory": {"ttlMs": 0}}}), "cache.memory.ttlMs"),
            (json!({"cache": {"indexedDb": {"minImportance": 1.5}}}), "cache.indexedDb.minImportance"),
            (json!({"cache": {"localStorage": {"maxBytes": 10}}}), "cache.localStorage.maxBytes"),
            (json!({"cache": {"sweepIntervalMs": 5}}), "cache.sweepIntervalMs"),
            (json!({"cache": {"memory": {"maxEntrys": 5}}}), "cache.memory.maxEntrys"),
            (json!({"cache": {"memory": {"maxEntries": -1}}}), "cache.memory.maxEntries"),
        ];
        for (config, want) in cases {
            let (field, message) = field_and_message(parse(config));
            assert_eq!(field, want, "{message}");
        }
    }

    #[test]
    fn bad_namespace_says_what_is_allowed() {
        for bad in ["", "Has Space", "UPPER", "x".repeat(33).as_str()] {
            let (field, message) = field_and_message(parse(json!({ "namespace": bad })));
            assert_eq!(field, "namespace");
            assert!(message.contains("a-z, 0-9"), "{message}");
        }
    }
}
