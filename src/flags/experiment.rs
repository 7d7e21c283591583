//! Experiment assignment: GrowthBook's v2 bucketing (`hash.rs`), kept in the store so it sticks, and one exposure
//! per session and experiment.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hash::{bucket_ranges, choose_variation, hash};
use super::{Flags, Player, State};
use crate::config::flags::{check_name, ExperimentConfig, MAX_PLAYER_ID_CHARS};
use crate::ports::StoreError;
use crate::vocab::VariantReason;

/// Assignments kept at most (experiments no longer defined go first): the record stays small.
const MAX_KEPT: usize = 256;
/// A kept record past this is not read (the cap above keeps a real one far below).
const MAX_RECORD_BYTES: usize = 64 * 1024;

/// What `variant()` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub experiment: String,
    /// The variant's name; the control (the first variant) when the player is not in the experiment.
    pub variant: String,
    /// Its index in the experiment's variants.
    pub index: u32,
    pub in_experiment: bool,
    pub reason: VariantReason,
    /// The first time this session the player is in this experiment: report the exposure now.
    pub first_exposure: bool,
}

/// The stored record: whose assignments they are, and the assignments.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    player_id: String,
    anonymous: bool,
    assignments: BTreeMap<String, Kept>,
}

#[derive(Serialize, Deserialize)]
struct Kept {
    variant: String,
    version: u32,
}

impl Flags {
    /// The experiment `key` (the document's definition, else the config's) for this player; None: no such
    /// experiment. A new assignment is kept in memory at once; [`Flags::save_assignments`] stores it.
    pub fn variant(&self, key: &str) -> Option<Assignment> {
        let exp = self.experiment(key)?;
        let player = self.player_id();
        let mut state = self.state.borrow_mut();
        let outside = |reason| Assignment {
            experiment: key.to_string(),
            variant: exp.variants.first().cloned().unwrap_or_default(),
            index: 0,
            in_experiment: false,
            reason,
            first_exposure: false,
        };
        if !exp.active {
            return Some(outside(VariantReason::Inactive));
        }
        let kept = state.assignments.get(key).filter(|(_, version)| *version == exp.version);
        let kept = kept.and_then(|(name, _)| exp.variants.iter().position(|v| v == name));
        let (index, reason) = match kept {
            Some(i) => (i, VariantReason::Sticky),
            None => {
                let seed = exp.seed.as_deref().unwrap_or(key);
                let n = hash(seed, &player, 2).unwrap_or(0.0);
                let ranges = bucket_ranges(exp.variants.len(), exp.coverage, exp.weights.as_deref());
                match choose_variation(n, &ranges) {
                    Some(i) => (i, VariantReason::Assigned),
                    None => return Some(outside(VariantReason::OutsideCoverage)),
                }
            }
        };
        let variant = exp.variants.get(index).cloned().unwrap_or_default();
        if reason == VariantReason::Assigned {
            let State { remote, assignments, .. } = &mut *state;
            let doc = remote.as_ref().map(|r| &r.doc.experiments);
            let defined = |k: &str| self.config.experiments.contains_key(k) || doc.is_some_and(|d| d.contains_key(k));
            keep(assignments, defined, key, &variant, exp.version);
            state.unsaved = true;
            state.save_failed = false;
        }
        let first_exposure = state.exposed.insert(key.to_string());
        Some(Assignment {
            experiment: key.to_string(),
            variant,
            index: u32::try_from(index).unwrap_or(0),
            in_experiment: true,
            reason,
            first_exposure,
        })
    }

    /// Whether an assignment or a new anonymous id awaits [`Flags::save_assignments`] (not after a failed write
    /// until something new is assigned).
    pub fn unsaved(&self) -> bool {
        let state = self.state.borrow();
        state.unsaved && !state.save_failed
    }

    /// Writes the assignments (and the anonymous id) made since the last write; nothing when there are none.
    pub async fn save_assignments(&self) -> Result<(), StoreError> {
        let Some(store) = self.ports.store.clone() else { return Ok(()) };
        let record = {
            let mut state = self.state.borrow_mut();
            if !state.unsaved {
                return Ok(());
            }
            state.unsaved = false;
            let player = match (&self.config.player_id, &state.player) {
                (Some(id), _) => Player { id: id.clone(), anonymous: false },
                (None, Some(p)) => p.clone(),
                // No anonymous id made yet means no assignment either: nothing worth a write.
                (None, None) => return Ok(()),
            };
            let assignments = state.assignments.iter();
            let assignments = assignments
                .map(|(k, (variant, version))| (k.clone(), Kept { variant: variant.clone(), version: *version }));
            Record { player_id: player.id, anonymous: player.anonymous, assignments: assignments.collect() }
        };
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        let written = store.put(&self.experiments_key, &bytes).await;
        if written.is_err() {
            let mut state = self.state.borrow_mut();
            state.unsaved = true;
            state.save_failed = true;
        }
        written
    }

    /// The id experiments and rollouts hash: the configured one, else the anonymous one (kept, or made now).
    pub fn player_id(&self) -> String {
        if let Some(id) = &self.config.player_id {
            return id.clone();
        }
        let mut state = self.state.borrow_mut();
        if let Some(p) = &state.player {
            return p.id.clone();
        }
        let id = format!("{:016x}{:016x}", self.ports.rng.next_u64(), self.ports.rng.next_u64());
        state.player = Some(Player { id: id.clone(), anonymous: true });
        state.unsaved = true;
        state.save_failed = false;
        id
    }

    /// Reads the kept assignments: those of this player (the configured id, or the kept anonymous one).
    pub(super) async fn load_assignments(&self) {
        let Some(store) = self.ports.store.clone() else { return };
        let bytes = store.get(&self.experiments_key).await.ok().flatten().filter(|b| b.len() <= MAX_RECORD_BYTES);
        let record: Option<Record> = bytes.and_then(|b| serde_json::from_slice(&b).ok());
        let mut state = self.state.borrow_mut();
        let Some(record) = record else { return };
        let ours = match &self.config.player_id {
            Some(id) => !record.anonymous && record.player_id == *id,
            // Replaces an id made before the load (nothing assigns before the runtime's start has loaded).
            None => record.anonymous && valid_anonymous_id(&record.player_id),
        };
        if !ours {
            return;
        }
        if self.config.player_id.is_none() {
            state.player = Some(Player { id: record.player_id, anonymous: true });
        }
        let valid = |(k, kept): (String, Kept)| check_name(&k).is_ok().then_some((k, (kept.variant, kept.version)));
        state.assignments = record.assignments.into_iter().filter_map(valid).take(MAX_KEPT).collect();
    }

    fn experiment(&self, key: &str) -> Option<ExperimentConfig> {
        let state = self.state.borrow();
        let from_doc = state.remote.as_ref().and_then(|r| r.doc.experiments.get(key));
        from_doc.or_else(|| self.config.experiments.get(key)).cloned()
    }
}

/// Keeps an assignment within [`MAX_KEPT`]: when full, those of experiments no longer `defined` go first.
fn keep(
    kept: &mut BTreeMap<String, (String, u32)>,
    defined: impl Fn(&str) -> bool,
    key: &str,
    variant: &str,
    version: u32,
) {
    if kept.len() >= MAX_KEPT && !kept.contains_key(key) {
        kept.retain(|k, _| defined(k));
    }
    if kept.len() < MAX_KEPT || kept.contains_key(key) {
        kept.insert(key.to_string(), (variant.to_string(), version));
    }
}

/// An anonymous id as [`Flags::player_id`] makes them (another script may have written the record).
fn valid_anonymous_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_PLAYER_ID_CHARS && id.bytes().all(|b| b.is_ascii_hexdigit())
}
