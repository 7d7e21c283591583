//! The runtime's configuration: one object, camelCase, every option defaulted, validated once at `create`.
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Config {
    /// Prefix of every key this runtime writes to localStorage and of its IndexedDB database name, so several
    /// games (or saves) on one origin keep apart. 1-32 characters of a-z, 0-9, '-' and '_'.
    pub namespace: String,
    pub storage: StorageConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Use localStorage when the browser allows it.
    pub local_storage: bool,
    /// Use IndexedDB when the browser allows it.
    pub indexed_db: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config { namespace: "unwritten".into(), storage: StorageConfig::default() }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { local_storage: true, indexed_db: true }
    }
}

impl Config {
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
    fn bad_namespace_says_what_is_allowed() {
        for bad in ["", "Has Space", "UPPER", "x".repeat(33).as_str()] {
            let (field, message) = field_and_message(parse(json!({ "namespace": bad })));
            assert_eq!(field, "namespace");
            assert!(message.contains("a-z, 0-9"), "{message}");
        }
    }
}
