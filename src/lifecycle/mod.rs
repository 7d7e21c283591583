//! Model delivery and versions: when the model loads (`strategy`), getting its files onto the device with an
//! integrity check (`delivery`), the verified copy kept in IndexedDB (`keep`), the check for a newer version
//! (`update`), and the per-runtime host that loads the model and its response bank once (`host`).
mod delivery;
mod host;
mod keep;
mod strategy;
#[cfg(test)]
mod tests;
mod update;

pub use delivery::{fetch_and_load, fetch_bank, BankSource, LocalModel};
pub use host::{ModelHost, ModelStatus};
pub use strategy::{resolve, ModelConfig, ModelUrls, Strategy};
pub use update::{check_update, Update};
