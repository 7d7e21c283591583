//! Feature flags, A/B experiments and gradual rollout (docs/design.md §8): the design's AIFeatureFlags,
//! AIExperiment and GradualRollout, platform-free.
//!
//! **Flags.** A flag's value comes from the remote document (`config.flags.url`, see [`document`]), else from
//! `config.flags.defaults`, else from the built-in defaults ([`crate::config::flags::builtin_flags`]). The
//! document is fetched with a timeout and `If-None-Match` (a 304 keeps the copy), kept in the store with its
//! fetch time and ETag, used without fetching for `ttlMs`, and kept as the last good copy when a fetch fails.
//! Each refresh returns the flags whose value changed ([`FlagChange`]).
//!
//! **Experiments and rollouts hash as GrowthBook does** (its v2 hashing, [`hash`]), so a game server can
//! reproduce an assignment. With FNV-1a 32 over UTF-16 code units (`fnv1a32`) and `decimal` the base-10 text
//! of a number:
//!
//! ```text
//! n      = (fnv1a32(decimal(fnv1a32(seed + playerId))) % 10000) / 10000      seed: the experiment's, else its key
//! ranges = GrowthBook getBucketRanges(variants, coverage, weights)            variant i: [start_i, start_i + coverage * w_i)
//! variant = the i whose range holds n; none: outside the coverage, the control (variants[0]) without an exposure
//!
//! in rollout  <=>  fnv1a32(decimal(fnv1a32(key + playerId))) % 10000  <  round(percentage * 100)
//!             (for a whole percentage: bucket = that % 10000 / 100, in 0..99, and in <=> bucket < percentage)
//! ```
//!
//! e.g. `fnv1a32("seed" + "a")` is 717764279, `fnv1a32("717764279")` is 2503390505, and n = 505 / 10000 = 0.0505.
//! Raising a rollout's percentage only adds players. An experiment assignment is kept in the store, so a later
//! change of weights does not move a player (raise the experiment's `version` to re-assign everyone); an exposure
//! is reported the first time per session a player is in an experiment.
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::Serialize;

use crate::config::flags::{builtin_flags, FlagValue, FlagsConfig};
use crate::config::Config;
use crate::ports::{Clock, Http, KvStore, Rng};
use crate::vocab::{FlagSource, FlagsRefresh};

pub mod document;
mod experiment;
pub mod hash;
mod remote;
mod snapshot;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_experiments;

pub use crate::config::flags::{ExperimentConfig, Rollout};
pub use document::{Document, DocumentError};
pub use experiment::Assignment;
pub use hash::in_rollout;
pub use remote::Refresh;
pub use snapshot::FlagsSnapshot;

/// What flags reach outside: the document's server, the store that keeps it and the assignments (the runtime
/// passes localStorage), wall time for the TTL, randomness for an anonymous player id.
pub struct FlagsPorts {
    pub http: Rc<dyn Http>,
    pub store: Option<Rc<dyn KvStore>>,
    pub clock: Rc<dyn Clock>,
    pub rng: Rc<dyn Rng>,
}

/// A flag's value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub value: FlagValue,
    pub source: FlagSource,
}

/// A flag whose value a refresh changed. `old`/`new` are None where the flag had or has no value (a game flag
/// the document added or dropped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagChange {
    pub name: String,
    pub old: Option<FlagValue>,
    pub new: Option<FlagValue>,
}

/// Where flags stand, for metrics and debugging.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagsStatus {
    /// Wall time (ms) the document in use was fetched or confirmed (304); None: no document.
    pub fetched_at_ms: Option<f64>,
    pub etag: Option<String>,
    /// Entries of the document in use that were left out.
    pub rejected: u32,
    /// What was wrong with the first few of them.
    pub problems: Vec<String>,
    pub last_refresh: Option<FlagsRefresh>,
    /// Why the last fetch failed, if it did.
    pub last_error: Option<String>,
}

/// The document in use.
#[derive(Debug, Clone)]
struct Remote {
    doc: Document,
    etag: Option<String>,
    fetched_at_ms: f64,
}

#[derive(Debug, Clone, PartialEq)]
struct Player {
    id: String,
    anonymous: bool,
}

#[derive(Debug, Default)]
struct State {
    remote: Option<Remote>,
    last_refresh: Option<FlagsRefresh>,
    last_error: Option<String>,
    /// Fetches started and the newest one applied: an older fetch that ends late never replaces a newer copy.
    fetches: u64,
    applied: u64,
    player: Option<Player>,
    /// Kept assignments by experiment key: (variant, experiment version).
    assignments: BTreeMap<String, (String, u32)>,
    /// Assignments (or the anonymous id) not yet written to the store.
    unsaved: bool,
    /// The last write failed: no new attempt until something new is assigned (a full store would fail each).
    save_failed: bool,
    /// Experiments exposed this session.
    exposed: BTreeSet<String>,
}

/// The flags, experiments and rollouts of one runtime. Reads are synchronous; fetching and storing are not.
pub struct Flags {
    config: FlagsConfig,
    /// Built-in defaults (with `config.cloud`'s thresholds), then the config's defaults over them.
    defaults: BTreeMap<String, Flag>,
    document_key: String,
    experiments_key: String,
    ports: FlagsPorts,
    state: RefCell<State>,
}

impl Flags {
    /// Flags from a validated config. Nothing is read yet: [`Flags::load`] reads the kept copy and assignments.
    pub fn new(config: &Config, ports: FlagsPorts) -> Flags {
        let mut defaults = BTreeMap::new();
        for f in builtin_flags(&config.cloud) {
            defaults.insert(f.name.to_string(), Flag { value: f.default, source: FlagSource::Default });
        }
        for (name, value) in &config.flags.defaults {
            defaults.insert(name.clone(), Flag { value: value.clone(), source: FlagSource::Config });
        }
        let ns = &config.namespace;
        Flags {
            config: config.flags.clone(),
            defaults,
            // Never starting with "rc": the response cache owns (and deletes) the keys that do.
            document_key: format!("flags/{ns}/document"),
            experiments_key: format!("flags/{ns}/experiments"),
            ports,
            state: RefCell::default(),
        }
    }

    /// Reads the kept document (used as is, however old, until a refresh) and the kept assignments.
    pub async fn load(&self) {
        self.load_document().await;
        self.load_assignments().await;
    }

    /// The flag `name`: the document's value, else the config's, else the built-in one; None if none has it.
    pub fn get(&self, name: &str) -> Option<Flag> {
        let state = self.state.borrow();
        let remote = state.remote.as_ref().and_then(|r| r.doc.flags.get(name));
        match remote {
            Some(value) => Some(Flag { value: value.clone(), source: FlagSource::Remote }),
            None => self.defaults.get(name).cloned(),
        }
    }

    /// True only when the flag `name` is the boolean `true` (a number or string is not "enabled").
    pub fn is_enabled(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Flag { value: FlagValue::Bool(true), .. }))
    }

    /// Every flag with a value, by name.
    pub fn all(&self) -> BTreeMap<String, Flag> {
        let mut all = self.defaults.clone();
        if let Some(r) = &self.state.borrow().remote {
            for (name, value) in &r.doc.flags {
                all.insert(name.clone(), Flag { value: value.clone(), source: FlagSource::Remote });
            }
        }
        all
    }

    /// Is this player in the rollout `key` (from the document, else the config)? None: no such rollout.
    pub fn rollout(&self, key: &str) -> Option<bool> {
        let from_doc = self.state.borrow().remote.as_ref().and_then(|r| r.doc.rollouts.get(key).copied());
        let percentage = from_doc.or_else(|| self.config.rollouts.iter().find(|r| r.key == key).map(|r| r.percentage));
        percentage.map(|p| self.in_rollout(key, p))
    }

    /// Is this player among `percentage` % of players for `key` (e.g. a model version's `rollout` object)?
    pub fn in_rollout(&self, key: &str, percentage: f64) -> bool {
        in_rollout(key, percentage, &self.player_id())
    }

    pub fn status(&self) -> FlagsStatus {
        let state = self.state.borrow();
        let remote = state.remote.as_ref();
        FlagsStatus {
            fetched_at_ms: remote.map(|r| r.fetched_at_ms),
            etag: remote.and_then(|r| r.etag.clone()),
            rejected: remote.map_or(0, |r| r.doc.rejected),
            problems: remote.map(|r| r.doc.problems.clone()).unwrap_or_default(),
            last_refresh: state.last_refresh,
            last_error: state.last_error.clone(),
        }
    }
}
