//! The remote flag document, read within bounds. Its shape (every member optional, others ignored):
//!
//! ```json
//! {
//!   "flags": { "useLocalAi": true, "localAiThreshold": 0.25, "npcMood": "grumpy" },
//!   "experiments": { "local_first": { "variants": ["A", "B"], "weights": [0.5, 0.5] } },
//!   "rollouts": [{ "key": "model-2.2.0", "percentage": 5 }]
//! }
//! ```
//!
//! A document that is too big, too deep, not a JSON object, or whose `flags`/`experiments`/`rollouts` has the
//! wrong type is refused whole (the last good copy stays). A single entry that breaks the rules of
//! `config::flags` (a built-in flag of the wrong type, a bad experiment) is left out and counted; the rest is kept.
use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::flags::{
    check_experiment, check_flag, check_name, check_rollout, ExperimentConfig, FlagValue, Rollout, MAX_EXPERIMENTS,
    MAX_FLAGS, MAX_ROLLOUTS,
};

/// A bigger body is refused unread: flags are a few hundred bytes, and the document is parsed on every start.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// The shape above needs 4 levels (document, experiments, one experiment, its variants).
pub const MAX_DEPTH: usize = 6;
/// How many refusals are described (all are counted).
const MAX_PROBLEMS: usize = 8;

/// A document as kept: what passed the rules, and what did not.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub flags: BTreeMap<String, FlagValue>,
    pub experiments: BTreeMap<String, ExperimentConfig>,
    /// Percentage by rollout key.
    pub rollouts: BTreeMap<String, f64>,
    /// Entries left out.
    pub rejected: u32,
    /// What was wrong with the first few of them, e.g. "flags.useLocalAi: built-in flag: use true or false".
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the flag document is {bytes} bytes; at most {MAX_DOCUMENT_BYTES} are read")]
    TooLarge { bytes: usize },
    #[error("the flag document is not JSON: {0}")]
    NotJson(String),
    #[error("the flag document is not a JSON object")]
    NotObject,
    #[error("the flag document nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the flag document's `{0}` has the wrong type")]
    WrongType(&'static str),
}

impl Document {
    /// Reads a document from its text.
    pub fn parse(text: &str) -> Result<Document, DocumentError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge { bytes: text.len() });
        }
        // serde_json refuses nesting past 128 levels itself, so the parse cannot overflow the stack.
        let value: Value = serde_json::from_str(text).map_err(|e| DocumentError::NotJson(e.to_string()))?;
        let Value::Object(top) = &value else {
            return Err(DocumentError::NotObject);
        };
        if depth(&value) > MAX_DEPTH {
            return Err(DocumentError::TooDeep);
        }
        let mut doc = Document::default();
        if let Some(flags) = member(top, "flags", Value::as_object)? {
            for (name, v) in flags {
                let checked = FlagValue::from_json(v)
                    .ok_or_else(|| "use a boolean, a number or a string".to_string())
                    .and_then(|value| check_flag(name, &value).map(|()| value));
                match checked {
                    Ok(_) if doc.flags.len() >= MAX_FLAGS => doc.refuse("flags", name, "over the flag cap"),
                    Ok(value) => drop(doc.flags.insert(name.clone(), value)),
                    Err(m) => doc.refuse("flags", name, &m),
                }
            }
        }
        if let Some(experiments) = member(top, "experiments", Value::as_object)? {
            for (key, v) in experiments {
                let checked = check_name(key).and_then(|()| {
                    let e: ExperimentConfig = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
                    check_experiment(&e).map_err(|(member, m)| format!("{member}: {m}"))?;
                    Ok(e)
                });
                match checked {
                    Ok(_) if doc.experiments.len() >= MAX_EXPERIMENTS => {
                        doc.refuse("experiments", key, "over the experiment cap")
                    }
                    Ok(e) => drop(doc.experiments.insert(key.clone(), e)),
                    Err(m) => doc.refuse("experiments", key, &m),
                }
            }
        }
        if let Some(rollouts) = member(top, "rollouts", Value::as_array)? {
            for (i, v) in rollouts.iter().enumerate() {
                let at = i.to_string();
                let checked = serde_json::from_value::<Rollout>(v.clone()).map_err(|e| e.to_string()).and_then(|r| {
                    check_rollout(&r).map_err(|(member, m)| format!("{member}: {m}"))?;
                    Ok(r)
                });
                match checked {
                    Ok(r) if doc.rollouts.contains_key(&r.key) => doc.refuse("rollouts", &at, "a key given twice"),
                    Ok(_) if doc.rollouts.len() >= MAX_ROLLOUTS => doc.refuse("rollouts", &at, "over the cap"),
                    Ok(r) => drop(doc.rollouts.insert(r.key, r.percentage)),
                    Err(m) => doc.refuse("rollouts", &at, &m),
                }
            }
        }
        Ok(doc)
    }

    fn refuse(&mut self, section: &str, name: &str, problem: &str) {
        self.rejected = self.rejected.saturating_add(1);
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(format!("{section}.{name:.80}: {problem:.200}"));
        }
    }
}

/// `top[name]` read with `as_kind`; absent or null is None, another type refuses the document.
fn member<'a, T: ?Sized>(
    top: &'a serde_json::Map<String, Value>,
    name: &'static str,
    as_kind: fn(&'a Value) -> Option<&'a T>,
) -> Result<Option<&'a T>, DocumentError> {
    match top.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => as_kind(v).map(Some).ok_or(DocumentError::WrongType(name)),
    }
}

/// The nesting depth of `v` (a scalar is 1), walked without recursion.
fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|x| (x, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_good_entries_and_counts_the_rest() {
        let text = r#"{
            "version": 3,
            "flags": {"useLocalAi": false, "localAiThreshold": "high", "useCache": 1, "npcMood": "grumpy",
                      "maxNpcs": 12, "list": [1], "bad name": true, "nothing": null},
            "experiments": {"ok": {"variants": ["A", "B"]}, "one": {"variants": ["A"]},
                            "typo": {"variants": ["A", "B"], "wieghts": [1, 0]}},
            "rollouts": [{"key": "model-2.2.0", "percentage": 5}, {"key": "model-2.2.0", "percentage": 50},
                         {"key": "x", "percentage": 150}]
        }"#;
        let doc = Document::parse(text).unwrap();
        assert_eq!(doc.flags.len(), 3);
        assert_eq!(doc.flags["useLocalAi"], FlagValue::Bool(false));
        assert_eq!(doc.flags["maxNpcs"], FlagValue::Number(12.0));
        assert_eq!(doc.experiments.keys().collect::<Vec<_>>(), ["ok"]);
        assert_eq!(doc.rollouts, BTreeMap::from([("model-2.2.0".to_string(), 5.0)]));
        assert_eq!(doc.rejected, 5 + 2 + 2);
        assert_eq!(doc.problems.len(), MAX_PROBLEMS);
        assert!(doc.problems.iter().any(|p| p.starts_with("flags.localAiThreshold: built-in")), "{:?}", doc.problems);
    }

    #[test]
    fn refuses_what_is_too_big_too_deep_or_not_an_object() {
        let big = format!(r#"{{"flags": {{"x": "{}"}}}}"#, "a".repeat(MAX_DOCUMENT_BYTES));
        assert!(matches!(Document::parse(&big), Err(DocumentError::TooLarge { .. })));
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(Document::parse(&deep), Err(DocumentError::TooDeep));
        let very_deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(Document::parse(&very_deep[..MAX_DOCUMENT_BYTES]), Err(DocumentError::NotJson(_))));
        for text in ["[]", "\"flags\"", "null", "3"] {
            assert_eq!(Document::parse(text), Err(DocumentError::NotObject), "{text}");
        }
        assert!(matches!(Document::parse("{\"flags\": "), Err(DocumentError::NotJson(_))));
        assert_eq!(Document::parse(r#"{"flags": [true]}"#), Err(DocumentError::WrongType("flags")));
        assert_eq!(Document::parse(r#"{"rollouts": {}}"#), Err(DocumentError::WrongType("rollouts")));
        assert_eq!(Document::parse(r#"{"flags": null}"#).map(|d| d.flags.len()), Ok(0));
    }

    #[test]
    fn caps_the_number_of_flags() {
        let members: Vec<String> = (0..MAX_FLAGS + 5).map(|i| format!("\"f{i:04}\": {i}")).collect();
        let doc = Document::parse(&format!("{{\"flags\": {{{}}}}}", members.join(","))).unwrap();
        assert_eq!((doc.flags.len(), doc.rejected), (MAX_FLAGS, 5));
    }
}
