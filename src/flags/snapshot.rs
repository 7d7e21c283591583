//! The state the synchronous reads depend on, as a value that crosses threads: in worker mode the main thread
//! answers `isEnabled`/`getFlag`/`variant`/`inRollout` from a copy of the worker's flags, rebuilt from this
//! (`crate::runtime::FlagsMirror`), so both threads run the same rules on the same state.
//!
//! It holds what `Flags`' reads read and change: the document's flags, experiments and rollouts (not its ETag
//! or fetch time, which only fetching uses), the player id, the kept assignments and this session's exposures.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Document, Flags, Player, Remote};
use crate::config::flags::{ExperimentConfig, FlagValue};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlagsSnapshot {
    document: Option<SnapshotDocument>,
    player_id: String,
    anonymous: bool,
    /// Variant and experiment version, by experiment key.
    assignments: BTreeMap<String, (String, u32)>,
    exposed: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotDocument {
    flags: BTreeMap<String, FlagValue>,
    experiments: BTreeMap<String, ExperimentConfig>,
    rollouts: BTreeMap<String, f64>,
}

impl Flags {
    /// The state of the reads. Makes the anonymous player id if there is none yet: a copy answers with this id,
    /// so it must be the one this side keeps (the caller saves it, see [`Flags::unsaved`]).
    pub fn snapshot(&self) -> FlagsSnapshot {
        let player_id = self.player_id();
        let state = self.state.borrow();
        let document = state.remote.as_ref().map(|r| SnapshotDocument {
            flags: r.doc.flags.clone(),
            experiments: r.doc.experiments.clone(),
            rollouts: r.doc.rollouts.clone(),
        });
        FlagsSnapshot {
            document,
            anonymous: self.config.player_id.is_none(),
            player_id,
            assignments: state.assignments.clone(),
            exposed: state.exposed.clone(),
        }
    }

    /// Replaces the state of the reads with a snapshot's (of flags built from the same config). Nothing is
    /// marked unsaved: storing is the snapshot's side's job.
    pub fn restore(&self, snapshot: FlagsSnapshot) {
        let mut state = self.state.borrow_mut();
        state.remote = snapshot.document.map(|d| Remote {
            doc: Document { flags: d.flags, experiments: d.experiments, rollouts: d.rollouts, ..Document::default() },
            etag: None,
            fetched_at_ms: 0.0,
        });
        state.player = Some(Player { id: snapshot.player_id, anonymous: snapshot.anonymous });
        state.assignments = snapshot.assignments;
        state.exposed = snapshot.exposed;
        state.unsaved = false;
    }
}
