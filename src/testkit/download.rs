use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use crate::ports::{DownloadError, DownloadLimits, Downloader, HttpError, LocalFuture, Progress};
use crate::testkit::FakeClock;

/// A [`Downloader`] serving files from memory in fixed-size chunks (so progress is reported several times),
/// counting downloads; a URL it does not have is a network error. It keeps the limits as the browser's does: a
/// stalled URL fails after the stall timeout (moving the clock given to [`FakeDownloader::set_clock`] by it), and
/// a body stops at the first chunk that would take it past the size limit.
#[derive(Debug, Default)]
pub struct FakeDownloader {
    files: RefCell<HashMap<String, Vec<u8>>>,
    stalled: RefCell<HashSet<String>>,
    clock: RefCell<Option<FakeClock>>,
    downloads: Cell<u32>,
    offline: Cell<bool>,
    log: RefCell<Vec<String>>,
    delivered: RefCell<HashMap<String, (u64, DownloadLimits)>>,
}

/// The chunk size of a fake body.
const CHUNK: usize = 64 * 1024;

impl FakeDownloader {
    pub fn new() -> Self {
        FakeDownloader::default()
    }

    pub fn serve(&self, url: &str, bytes: &[u8]) {
        self.files.borrow_mut().insert(url.to_string(), bytes.to_vec());
    }

    /// The server answers `url` with headers and then never sends a byte.
    pub fn stall(&self, url: &str) {
        self.stalled.borrow_mut().insert(url.to_string());
    }

    /// The clock a stalled download advances by its stall timeout, as the wait would take in a browser.
    pub fn set_clock(&self, clock: FakeClock) {
        *self.clock.borrow_mut() = Some(clock);
    }

    /// Every download fails as if the network were down.
    pub fn set_offline(&self, offline: bool) {
        self.offline.set(offline);
    }

    pub fn downloads(&self) -> u32 {
        self.downloads.get()
    }

    /// Every URL asked for, in order (offline attempts included).
    pub fn requests(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    /// The body bytes the last download of `url` took in before it ended (0 when it never got an answer).
    pub fn delivered(&self, url: &str) -> u64 {
        self.delivered.borrow().get(url).map_or(0, |d| d.0)
    }

    /// The limits the last download of `url` was asked to keep.
    pub fn limits(&self, url: &str) -> Option<DownloadLimits> {
        self.delivered.borrow().get(url).map(|d| d.1)
    }

    fn ended(&self, url: &str, bytes: u64, limits: DownloadLimits) {
        self.delivered.borrow_mut().insert(url.to_string(), (bytes, limits));
    }
}

impl Downloader for FakeDownloader {
    fn download<'a>(
        &'a self,
        url: &'a str,
        limits: DownloadLimits,
        progress: Progress<'a>,
    ) -> LocalFuture<'a, Result<Vec<u8>, DownloadError>> {
        Box::pin(async move {
            self.log.borrow_mut().push(url.to_string());
            if self.offline.get() {
                return Err(HttpError::Network("offline".into()).into());
            }
            self.downloads.set(self.downloads.get() + 1);
            self.ended(url, 0, limits);
            if self.stalled.borrow().contains(url) {
                if let Some(clock) = &*self.clock.borrow() {
                    clock.advance(f64::from(limits.stall_ms));
                }
                return Err(HttpError::Timeout { after_ms: limits.stall_ms }.into());
            }
            let bytes = self.files.borrow().get(url).cloned();
            let bytes = bytes.ok_or_else(|| HttpError::Network(format!("GET {url} answered HTTP 404")))?;
            let total = bytes.len() as u64;
            progress(0, Some(total));
            for end in (0..bytes.len()).step_by(CHUNK).skip(1).chain([bytes.len()]) {
                if end as u64 > limits.max_bytes {
                    return Err(DownloadError::TooLarge { limit: limits.max_bytes });
                }
                self.ended(url, end as u64, limits);
                progress(end as u64, Some(total));
            }
            Ok(bytes)
        })
    }
}
