use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};

use crate::model::manifest::sha256_hex;
use crate::ports::{
    Download, DownloadError, DownloadFailure, DownloadLimits, DownloadRequest, Downloader, HttpError, LocalFuture,
    Progress,
};
use crate::testkit::FakeClock;

/// A [`Downloader`] serving files from memory in fixed-size chunks (so progress is reported several times),
/// counting downloads; a URL it does not have is a 404. It keeps the limits as the browser's does: a stalled URL
/// fails after the stall timeout (moving the clock given to [`FakeDownloader::set_clock`] by it), and a body stops
/// at the first chunk that would take it past the size limit. As a CDN does, it answers `Range` with 206 (unless
/// told to ignore it), `If-None-Match` with 304, and sends an ETag; and it can drop a connection part-way.
#[derive(Debug, Default)]
pub struct FakeDownloader {
    files: RefCell<HashMap<String, Vec<u8>>>,
    stalled: RefCell<HashSet<String>>,
    /// Per URL, the file offsets at which the next downloads break: one per download, in order.
    drops: RefCell<HashMap<String, VecDeque<Break>>>,
    ignores_range: RefCell<HashSet<String>>,
    clock: RefCell<Option<FakeClock>>,
    downloads: Cell<u32>,
    offline: Cell<bool>,
    log: RefCell<Vec<String>>,
    offsets: RefCell<Vec<(String, u64)>>,
    delivered: RefCell<HashMap<String, (u64, DownloadLimits)>>,
}

/// How a download breaks at a file offset: the connection drops, or the server stops sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Break {
    Drop(u64),
    Stall(u64),
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

    /// `url` is gone: a 404 from now on.
    pub fn unserve(&self, url: &str) {
        self.files.borrow_mut().remove(url);
    }

    /// The server answers `url` with headers and then never sends a byte.
    pub fn stall(&self, url: &str) {
        self.stalled.borrow_mut().insert(url.to_string());
    }

    /// The next download of `url` loses its connection once the file's byte `at` is reached (a network error
    /// after the bytes before it); each call adds one more broken download.
    pub fn drop_at(&self, url: &str, at: u64) {
        self.drops.borrow_mut().entry(url.to_string()).or_default().push_back(Break::Drop(at));
    }

    /// The next download of `url` sends the file up to byte `at`, then nothing until the stall timeout.
    pub fn stall_at(&self, url: &str, at: u64) {
        self.drops.borrow_mut().entry(url.to_string()).or_default().push_back(Break::Stall(at));
    }

    /// `url`'s server ignores `Range` and answers 200 with the whole file.
    pub fn ignore_range(&self, url: &str) {
        self.ignores_range.borrow_mut().insert(url.to_string());
    }

    /// The clock a stalled download advances by its stall timeout, as the wait would take in a browser.
    pub fn set_clock(&self, clock: FakeClock) {
        *self.clock.borrow_mut() = Some(clock);
    }

    /// Every download fails as if the network were down.
    pub fn set_offline(&self, offline: bool) {
        self.offline.set(offline);
    }

    /// Downloads that reached the server (a 304 included).
    pub fn downloads(&self) -> u32 {
        self.downloads.get()
    }

    /// Every URL asked for, in order (offline attempts included).
    pub fn requests(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    /// The `Range` offsets asked of `url`, in order (0: the whole file).
    pub fn offsets(&self, url: &str) -> Vec<u64> {
        self.offsets.borrow().iter().filter(|(u, _)| u == url).map(|(_, o)| *o).collect()
    }

    /// The ETag this server sends for `bytes`.
    pub fn etag_of(bytes: &[u8]) -> String {
        format!("\"{}\"", sha256_hex(bytes).get(..16).unwrap_or_default())
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

    fn stall_for(&self, limits: DownloadLimits) -> HttpError {
        if let Some(clock) = &*self.clock.borrow() {
            clock.advance(f64::from(limits.stall_ms));
        }
        HttpError::Timeout { after_ms: limits.stall_ms }
    }

    async fn respond(
        &self,
        url: &str,
        request: DownloadRequest,
        limits: DownloadLimits,
        progress: Progress<'_>,
    ) -> Result<Download, DownloadFailure> {
        self.log.borrow_mut().push(url.to_string());
        if self.offline.get() {
            return Err(HttpError::Network("offline".into()).into());
        }
        self.downloads.set(self.downloads.get() + 1);
        self.offsets.borrow_mut().push((url.to_string(), request.offset));
        self.ended(url, 0, limits);
        if self.stalled.borrow().contains(url) {
            return Err(self.stall_for(limits).into());
        }
        let file = self.files.borrow().get(url).cloned();
        let file = file.ok_or_else(|| HttpError::Network(format!("GET {url} answered HTTP 404")))?;
        let etag = Self::etag_of(&file);
        if request.if_none_match.as_deref() == Some(etag.as_str()) {
            return Ok(Download { not_modified: true, etag: Some(etag), ..Download::default() });
        }
        let from = if self.ignores_range.borrow().contains(url) { 0 } else { request.offset };
        if from > file.len() as u64 {
            return Err(HttpError::Network(format!("GET {url} answered HTTP 416")).into());
        }
        let broken = self.drops.borrow_mut().get_mut(url).and_then(|d| d.pop_front());
        let body = file.get(from as usize..).unwrap_or_default();
        let total = body.len() as u64;
        let fail = |error: DownloadError, received: &[u8]| DownloadFailure { error, received: received.to_vec(), from };
        progress(0, Some(total));
        for end in (0..body.len()).step_by(CHUNK).skip(1).chain([body.len()]) {
            let at = from + end as u64;
            let cut = match broken {
                Some(Break::Drop(b) | Break::Stall(b)) if b < at && b >= from => Some((b - from) as usize),
                _ => None,
            };
            if let (Some(cut), Some(kind)) = (cut, broken) {
                let received = body.get(..cut).unwrap_or_default();
                self.ended(url, cut as u64, limits);
                let error = match kind {
                    Break::Drop(_) => HttpError::Network("the connection was reset".into()),
                    Break::Stall(_) => self.stall_for(limits),
                };
                return Err(fail(error.into(), received));
            }
            if at > limits.max_bytes {
                let received = body.get(..end.saturating_sub(CHUNK)).unwrap_or_default();
                return Err(fail(DownloadError::TooLarge { limit: limits.max_bytes }, received));
            }
            self.ended(url, end as u64, limits);
            progress(end as u64, Some(total));
        }
        Ok(Download { body: body.to_vec(), from, not_modified: false, etag: Some(etag) })
    }
}

impl Downloader for FakeDownloader {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        request: DownloadRequest,
        limits: DownloadLimits,
        progress: Progress<'a>,
    ) -> LocalFuture<'a, Result<Download, DownloadFailure>> {
        Box::pin(self.respond(url, request, limits, progress))
    }
}

#[cfg(test)]
mod tests {
    use pollster::block_on;

    use super::*;

    const LIMITS: DownloadLimits = DownloadLimits { stall_ms: 1_000, max_bytes: 1 << 30 };

    fn fetch(dl: &FakeDownloader, offset: u64, etag: Option<&str>) -> Result<Download, DownloadFailure> {
        let req = DownloadRequest { offset, if_none_match: etag.map(str::to_string) };
        block_on(dl.fetch("u", req, LIMITS, &|_, _| {}))
    }

    #[test]
    fn ranges_drops_and_revalidation_behave_as_a_cdn_does() {
        let file: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let dl = FakeDownloader::new();
        dl.serve("u", &file);
        dl.drop_at("u", 70_000);
        let broken = fetch(&dl, 0, None).unwrap_err();
        assert!(matches!(broken.error, DownloadError::Http(HttpError::Network(_))));
        assert_eq!((broken.from, broken.received.as_slice()), (0, &file[..70_000]));
        let rest = fetch(&dl, 70_000, None).unwrap();
        assert_eq!((rest.from, rest.body.as_slice()), (70_000, &file[70_000..]));
        let etag = rest.etag.unwrap();
        assert!(fetch(&dl, 0, Some(&etag)).unwrap().not_modified);
        assert!(!fetch(&dl, 0, Some("\"other\"")).unwrap().not_modified);
        dl.ignore_range("u");
        assert_eq!(fetch(&dl, 70_000, None).unwrap().from, 0, "200: the whole file");
        assert_eq!(dl.offsets("u"), [0, 70_000, 0, 0, 70_000]);
    }
}
