//! The remote document: fetched with a timeout and `If-None-Match`, kept in the store with its fetch time and
//! ETag, used without fetching within `ttlMs`, and kept as the last good copy when a fetch fails.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::document::{Document, MAX_DOCUMENT_BYTES};
use super::{Flag, FlagChange, Flags, Remote};
use crate::ports::{HttpRequest, HttpResponse};
use crate::vocab::FlagsRefresh;

/// A longer ETag is not kept (real ones are a hash, well under 100 characters).
const MAX_ETAG_CHARS: usize = 256;
/// A kept record past this is not read: the body is at most 64 KB, JSON-escaped in the record.
const MAX_RECORD_BYTES: usize = 8 * MAX_DOCUMENT_BYTES;

/// What a refresh did, and the flags whose value it changed (the `flagsChanged` event).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refresh {
    pub outcome: FlagsRefresh,
    pub changes: Vec<FlagChange>,
    /// Entries of the new document left out (see [`super::FlagsStatus::problems`]).
    pub rejected: u32,
    /// Why the fetch failed: the last good copy stays in use.
    pub error: Option<String>,
}

impl Refresh {
    fn only(outcome: FlagsRefresh, error: Option<String>) -> Refresh {
        Refresh { outcome, changes: Vec::new(), rejected: 0, error }
    }
}

/// The stored copy: the body as fetched (read again with the current rules at each start), whence and when.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    url: String,
    etag: Option<String>,
    fetched_at_ms: f64,
    body: String,
}

impl Flags {
    /// Fetches the document unless the copy in use is younger than `ttlMs` (`force` fetches anyway, still with
    /// its ETag). Never fails: a failed fetch keeps the copy in use and says why.
    pub async fn refresh(&self, force: bool) -> Refresh {
        let Some(url) = self.config.url.clone() else {
            return self.finish(Refresh::only(FlagsRefresh::Off, None));
        };
        let now = self.ports.clock.wall_ms();
        let (etag, seq) = {
            let mut state = self.state.borrow_mut();
            let remote = state.remote.as_ref();
            // A fetch time in the future (the clock was set back) is not fresh.
            let age = remote.map(|r| now - r.fetched_at_ms).filter(|age| *age >= 0.0);
            if !force && age.is_some_and(|age| age < f64::from(self.config.ttl_ms)) {
                (None, None)
            } else {
                let etag = remote.and_then(|r| r.etag.clone());
                state.fetches += 1;
                (etag, Some(state.fetches))
            }
        };
        let Some(seq) = seq else {
            return self.finish(Refresh::only(FlagsRefresh::Fresh, None));
        };
        let mut req = HttpRequest::get(url.as_str(), self.config.timeout_ms).header("accept", "application/json");
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag);
        }
        let refresh = match self.ports.http.request(req).await {
            Err(e) => Refresh::only(FlagsRefresh::Failed, Some(e.to_string())),
            Ok(r) => self.apply(&url, r, seq, now).await,
        };
        self.finish(refresh)
    }

    /// Reads the kept copy: used as the document (however old) until a refresh replaces it.
    pub(super) async fn load_document(&self) {
        let (Some(store), Some(url)) = (&self.ports.store, &self.config.url) else { return };
        let Ok(Some(bytes)) = store.get(&self.document_key).await else { return };
        if bytes.len() > MAX_RECORD_BYTES {
            return;
        }
        let Ok(record) = serde_json::from_slice::<Record>(&bytes) else { return };
        // A copy of another URL (the config changed) is not this game's document.
        if record.url != *url || !record.fetched_at_ms.is_finite() {
            return;
        }
        if let Ok(doc) = Document::parse(&record.body) {
            let remote = Remote { doc, etag: record.etag, fetched_at_ms: record.fetched_at_ms };
            self.state.borrow_mut().remote.get_or_insert(remote);
        }
    }

    async fn apply(&self, url: &str, response: HttpResponse, seq: u64, now: f64) -> Refresh {
        let etag = response.header("etag").filter(|e| e.len() <= MAX_ETAG_CHARS).map(str::to_string);
        let status = response.status;
        if status == 304 {
            let confirmed = {
                let mut state = self.state.borrow_mut();
                let newest = seq > state.applied;
                match state.remote.as_mut() {
                    // We sent no ETag: a 304 confirms nothing.
                    None => return Refresh::only(FlagsRefresh::Failed, Some("HTTP 304 without a kept copy".into())),
                    Some(r) if newest => {
                        r.fetched_at_ms = now;
                        r.etag = etag.or(r.etag.take());
                        Some((r.etag.clone(), r.fetched_at_ms))
                    }
                    Some(_) => None,
                }
            };
            // The record's body is unchanged: read it back rather than hold a second copy of the text.
            if let Some((etag, fetched_at_ms)) = confirmed {
                self.touch_record(url, etag, fetched_at_ms).await;
            }
            return Refresh::only(FlagsRefresh::NotModified, None);
        }
        if !(200..300).contains(&status) {
            return Refresh::only(FlagsRefresh::Failed, Some(format!("HTTP {status}")));
        }
        let doc = match Document::parse(&response.body) {
            Ok(doc) => doc,
            Err(e) => return Refresh::only(FlagsRefresh::Failed, Some(e.to_string())),
        };
        let rejected = doc.rejected;
        let changes = {
            let before = self.all();
            let mut state = self.state.borrow_mut();
            if seq <= state.applied {
                // A newer fetch already answered.
                return Refresh { outcome: FlagsRefresh::Updated, changes: Vec::new(), rejected, error: None };
            }
            state.applied = seq;
            state.remote = Some(Remote { doc, etag: etag.clone(), fetched_at_ms: now });
            drop(state);
            diff(&before, &self.all())
        };
        let record = Record { url: url.to_string(), etag, fetched_at_ms: now, body: response.body };
        self.write_record(&record).await;
        Refresh { outcome: FlagsRefresh::Updated, changes, rejected, error: None }
    }

    /// Records the outcome for [`Flags::status`].
    fn finish(&self, refresh: Refresh) -> Refresh {
        let mut state = self.state.borrow_mut();
        state.last_refresh = Some(refresh.outcome);
        if refresh.outcome != FlagsRefresh::Fresh {
            state.last_error = refresh.error.clone();
        }
        refresh
    }

    async fn touch_record(&self, url: &str, etag: Option<String>, fetched_at_ms: f64) {
        let Some(store) = &self.ports.store else { return };
        let Ok(Some(bytes)) = store.get(&self.document_key).await else { return };
        if let Ok(mut record) = serde_json::from_slice::<Record>(&bytes) {
            if record.url == url {
                record.etag = etag;
                record.fetched_at_ms = fetched_at_ms;
                self.write_record(&record).await;
            }
        }
    }

    /// A write that fails (storage full or off) only costs the next start a fetch: the copy in memory serves.
    async fn write_record(&self, record: &Record) {
        if let (Some(store), Ok(bytes)) = (&self.ports.store, serde_json::to_vec(record)) {
            let _ = store.put(&self.document_key, &bytes).await;
        }
    }
}

/// The flags whose value differs between two snapshots, by name.
fn diff(before: &BTreeMap<String, Flag>, after: &BTreeMap<String, Flag>) -> Vec<FlagChange> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let old = before.get(name).map(|f| f.value.clone());
            let new = after.get(name).map(|f| f.value.clone());
            (old != new).then(|| FlagChange { name: name.clone(), old, new })
        })
        .collect()
}
