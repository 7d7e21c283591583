//! A release staged to a share of players (the design's GradualRollout gating a model version): its manifest
//! says `"rollout": { "percentage": 5 }`, and only players in that bucket take it as an update. The bucket is the
//! flags' (GrowthBook's v2 hash of the key and the player id, `crate::flags::hash`), which the runtime supplies as
//! an [`Audience`], so raising the percentage only adds players. The key is `{name}@{version}`: each version has
//! its own draw, which a game server reproduces with the formula in `crate::flags`.
//!
//! Only updates are gated: a player with no kept model takes whatever the manifest names (there is nothing to
//! stay on).
use std::rc::Rc;

use serde::Deserialize;

use crate::model::{Manifest, ModelError};
use crate::ports::LocalFuture;

/// Whether this player is among the first `percentage` % of players for `key`; implemented by the runtime with the
/// flags' player id and bucket.
pub trait Audience {
    fn admits<'a>(&'a self, key: &'a str, percentage: f64) -> LocalFuture<'a, bool>;
}

/// A manifest's `rollout`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Staged {
    /// The share of players that take this version, 0 to 100.
    pub percentage: f64,
}

#[derive(Deserialize)]
struct Release {
    #[serde(default)]
    rollout: Option<Staged>,
}

/// The `rollout` of a manifest's text, checked (none: every player takes it). A malformed one is an error naming
/// the field, as the rest of the manifest's are.
pub fn staged(text: &str) -> Result<Option<Staged>, ModelError> {
    let invalid = |e: String| ModelError::Load(format!("manifest.json is not valid: {e}"));
    let release: Release = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
        .map_err(|e| invalid(format!("{}: {}", e.path(), e.inner())))?;
    match release.rollout {
        Some(r) if !(0.0..=100.0).contains(&r.percentage) => {
            Err(invalid(format!("rollout.percentage {}: use 0 to 100", r.percentage)))
        }
        other => Ok(other),
    }
}

/// Whether two manifest texts are one release staged differently (they differ at most in `rollout`): raising a
/// stage is no news to the players already on it.
pub fn same_release(a: &str, b: &str) -> bool {
    let unstaged = |t: &str| {
        let mut v: serde_json::Value = serde_json::from_str(t).ok()?;
        v.as_object_mut()?.remove("rollout");
        Some(v)
    };
    matches!((unstaged(a), unstaged(b)), (Some(x), Some(y)) if x == y)
}

/// The bucket key of a release: `{name}@{version}`.
pub fn key(manifest: &Manifest) -> String {
    format!("{}@{}", manifest.name, manifest.version)
}

/// Whether this player takes `offered` now. Without an audience (a host outside a runtime) nobody is placed, so
/// only a release staged to 100 % is taken.
pub(super) async fn admitted(audience: Option<Rc<dyn Audience>>, offered: &Manifest, staged: Staged) -> bool {
    if staged.percentage >= 100.0 {
        return true;
    }
    match audience {
        Some(a) => a.admits(&key(offered), staged.percentage).await,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_restaged_is_the_same_release() {
        let a = r#"{"version": "2.2.0", "rollout": {"percentage": 5}}"#;
        assert!(same_release(a, r#"{"rollout": {"percentage": 50}, "version": "2.2.0"}"#));
        assert!(same_release(a, r#"{"version": "2.2.0"}"#));
        assert!(!same_release(a, r#"{"version": "2.2.1", "rollout": {"percentage": 5}}"#));
        assert!(!same_release(a, "not json"));
    }

    #[test]
    fn a_rollout_is_a_percentage_from_0_to_100_and_anything_else_is_named() {
        assert_eq!(staged(r#"{"version": "2.2.0"}"#).unwrap(), None);
        assert_eq!(staged(r#"{"rollout": {"percentage": 5}}"#).unwrap(), Some(Staged { percentage: 5.0 }));
        assert_eq!(staged(r#"{"rollout": null}"#).unwrap(), None);
        for (bad, field) in [
            (r#"{"rollout": {"percentage": 101}}"#, "rollout.percentage"),
            (r#"{"rollout": {"percentage": -1}}"#, "rollout.percentage"),
            (r#"{"rollout": {"percentage": "5"}}"#, "rollout.percentage"),
            (r#"{"rollout": {}}"#, "rollout"),
            (r#"{"rollout": {"percentage": 5, "stage": 1}}"#, "rollout"),
            (r#"{"rollout": 5}"#, "rollout"),
        ] {
            let e = staged(bad).unwrap_err().to_string();
            assert!(e.contains(field), "{bad}: {e}");
        }
    }
}
