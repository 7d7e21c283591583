//! Model delivery and versions: when the model loads (`strategy`), getting its files onto the device with an
//! integrity check (`fetcher`, `delivery`), the versions kept in IndexedDB (`keep`: current + backup), which
//! release is an update and when one may be fetched (`release`), which players a staged release reaches (`rollout`), the check of a new model beside the running one
//! (`shadow`), the update itself (`update`, `install`: check, download, verify, shadow, swap, rollback), its
//! events (`events`), and the per-runtime host that loads the model and its response bank once (`host`).
mod delivery;
mod events;
mod fetcher;
mod host;
mod install;
mod keep;
mod release;
mod rollout;
mod shadow;
mod slot;
mod strategy;
#[cfg(test)]
mod tests;
mod update;

pub use delivery::{fetch_and_load, fetch_bank, BankSource, LocalModel};
pub use events::{EventLog, ModelEvent};
pub use fetcher::{Fetcher, MAX_FILE_BYTES, MAX_MANIFEST_BYTES};
pub use host::{ModelHost, ModelStatus};
pub use release::{gate, judge};
pub use rollout::{key as rollout_key, staged, Audience, Staged};
pub use shadow::{OutputCheck, ShadowResult, ValidationSet};
pub use strategy::{resolve, ModelConfig, ModelUrls, Strategy};
