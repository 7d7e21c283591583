//! The ports: the only ways the platform-free core reaches the outside world.
//!
//! Browsers implement them in `crate::web`; native tests use the fakes in `crate::testkit`. Everything runs on one
//! thread (wasm32 has none to spare), so futures are `!Send` and traits take `&self` with interior mutability.
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// A boxed, single-threaded future: what async port methods return so the traits stay object-safe.
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Time. `now_ms` is monotonic (for latencies and deadlines); `wall_ms` is Unix epoch time (for TTLs that must
/// survive a reload and for budgets that reset at UTC midnight).
pub trait Clock {
    fn now_ms(&self) -> f64;
    fn wall_ms(&self) -> f64;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store is full (localStorage's QuotaExceededError, IndexedDB's quota). Evicting may help.
    #[error("storage quota exceeded in {store}")]
    QuotaExceeded { store: String },
    /// The store cannot be used at all (disabled, private mode, blocked, deleted while open).
    #[error("{store} is unavailable: {reason}")]
    Unavailable { store: String, reason: String },
    /// Any other failure of one operation.
    #[error("{store} failed: {reason}")]
    Failed { store: String, reason: String },
}

impl StoreError {
    /// A short stable label for metrics ("quota", "unavailable", "failed").
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::QuotaExceeded { .. } => "quota",
            StoreError::Unavailable { .. } => "unavailable",
            StoreError::Failed { .. } => "failed",
        }
    }
}

/// (key, value) pairs read from a [`KvStore`].
pub type Records = Vec<(String, Vec<u8>)>;

/// A persistent key-value store of bytes (localStorage, IndexedDB, or memory in tests).
pub trait KvStore {
    /// A name for metrics and errors, e.g. "localStorage".
    fn name(&self) -> &str;
    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>>;
    /// `get`, of the value the last writer anywhere (another tab, another worker) left. Differs from `get` only
    /// for a store that reads a copy: the package's worker keeps one of localStorage, which asks the main thread
    /// first. For a record that is read and written under a shared lock (the budget's).
    fn get_latest<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        self.get(key)
    }
    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>>;
    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>>;
    /// All keys that start with `prefix`, in no particular order.
    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>>;
    /// Releases the connection (an open IndexedDB connection blocks upgrades and deletion in other tabs).
    /// Later operations fail with `Unavailable`.
    fn close(&self) {}

    /// Writes several records. IndexedDB overrides this with one transaction (all or nothing), which is what
    /// makes batches fast; the default writes one by one and stops at the first error.
    fn put_many<'a>(&'a self, entries: &'a [(String, Vec<u8>)]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            for (key, value) in entries {
                self.put(key, value).await?;
            }
            Ok(())
        })
    }

    /// Every record whose key starts with `prefix`, as (key, value), in no particular order. IndexedDB overrides
    /// this with one transaction.
    fn get_all<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Records, StoreError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for key in self.keys(prefix).await? {
                if let Some(value) = self.get(&key).await? {
                    out.push((key, value));
                }
            }
            Ok(out)
        })
    }
}

/// SHA-256, for the model files checked at every start (about 1.7 MB). The browser's WebCrypto digests natively
/// and off the calling thread; hashed in WebAssembly the same bytes take 18-32 ms of the start (docs/performance.md).
pub trait Digest {
    /// The lowercase hex SHA-256 of `bytes`.
    fn sha256_hex<'a>(&'a self, bytes: &'a [u8]) -> LocalFuture<'a, String>;
}

/// A copy of the memory tier kept next to the caller, so a hit needs no call into the core (in the browser: a JS
/// `Map` that `ai.memoryCache().get(key)` reads without entering WebAssembly). The cache reports every change
/// of its memory tier here, so the copy never holds an entry the tier does not; the copy reports the hits it
/// served, so LRU order and hit counts stay right. Keys are cache key ids (`ai.cacheKey(...)`).
pub trait MemoryMirror {
    /// `id` now holds `text` until `expires_at_ms` (wall clock).
    fn set(&self, id: &str, text: &str, expires_at_ms: f64);
    fn remove(&self, id: &str);
    fn clear(&self);
    /// The ids the copy served since the last call, with how many hits each.
    fn take_hits(&self) -> Vec<(String, u64)>;
}

/// Messages between the tabs of one origin (BroadcastChannel), e.g. "this namespace was invalidated". A message
/// posted here reaches every other endpoint on the channel, never this one. Received messages wait in an inbox
/// until `drain`, so the core applies them at a point of its choosing (before it serves from memory).
pub trait Broadcast {
    fn post(&self, message: &str);
    /// The messages received since the last call, oldest first.
    fn drain(&self) -> Vec<String>;
    /// Stops receiving.
    fn close(&self) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// Debug shows header names only: values carry API keys, and debug output reaches logs and error reports.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// The request is aborted (really cancelled, not just ignored) when this many ms have passed.
    pub timeout_ms: u32,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, _)| (n.as_str(), "<redacted>")).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl HttpRequest {
    pub fn get(url: impl Into<String>, timeout_ms: u32) -> Self {
        HttpRequest { method: Method::Get, url: url.into(), headers: Vec::new(), body: None, timeout_ms }
    }

    pub fn post_json(url: impl Into<String>, body: impl Into<String>, timeout_ms: u32) -> Self {
        HttpRequest {
            method: Method::Post,
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(body.into()),
            timeout_ms,
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("request timed out after {after_ms} ms and was aborted")]
    Timeout { after_ms: u32 },
    /// Connection refused, DNS, CORS, offline: the browser gives no detail for these.
    #[error("network error: {0}")]
    Network(String),
    #[error("request aborted")]
    Aborted,
}

/// HTTP. Dropping the returned future before it completes must abort the request.
pub trait Http {
    fn request(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>>;
}

/// Called as bytes arrive: (bytes so far, total from Content-Length when the server sent one).
pub type Progress<'a> = &'a dyn Fn(u64, Option<u64>);

/// What a download may take before it is aborted (the request really cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    /// No byte for this long, the response's headers included: `HttpError::Timeout { after_ms: stall_ms }`.
    pub stall_ms: u32,
    /// A body past this many bytes: `DownloadError::TooLarge`, and nothing past it is buffered.
    pub max_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownloadError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("the body is larger than {limit} bytes; the download was aborted")]
    TooLarge { limit: u64 },
}

/// Where a download starts and what the caller already has. The default asks for the whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadRequest {
    /// Resume from this byte of the file (`Range: bytes={offset}-`); 0: the whole file.
    pub offset: u64,
    /// The ETag of the copy the caller has (`If-None-Match`): a 304 answers [`Download::not_modified`].
    pub if_none_match: Option<String>,
}

/// What a download got.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Download {
    pub body: Vec<u8>,
    /// The byte of the file `body` starts at: the request's offset for a 206, 0 for a 200 (a server that ignores
    /// `Range` sends the whole file).
    pub from: u64,
    /// 304: the copy named by `if_none_match` is current; `body` is empty.
    pub not_modified: bool,
    /// The response's ETag, when the server sent one (and, across origins, exposed it).
    pub etag: Option<String>,
}

/// A download that failed, with the bytes it received before it did (from byte `from` of the file), so that a
/// dropped connection can be resumed where it broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadFailure {
    pub error: DownloadError,
    pub received: Vec<u8>,
    pub from: u64,
}

impl From<DownloadError> for DownloadFailure {
    fn from(error: DownloadError) -> Self {
        DownloadFailure { error, received: Vec::new(), from: 0 }
    }
}

impl From<HttpError> for DownloadFailure {
    fn from(error: HttpError) -> Self {
        DownloadError::Http(error).into()
    }
}

/// Binary downloads (model files), streamed so progress can be reported and the limits kept.
pub trait Downloader {
    /// GETs `url` as `request` says, within `limits` (`max_bytes` bounds the whole file: a body from `from` may
    /// hold `max_bytes - from`). Statuses other than 200, 206 and (with `if_none_match`) 304 are errors
    /// (`HttpError::Network` with the status). `progress` counts the body's bytes. Dropping the returned future
    /// before it completes must abort the request.
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        request: DownloadRequest,
        limits: DownloadLimits,
        progress: Progress<'a>,
    ) -> LocalFuture<'a, Result<Download, DownloadFailure>>;

    /// The whole body of `url` (no resume, no revalidation).
    fn download<'a>(
        &'a self,
        url: &'a str,
        limits: DownloadLimits,
        progress: Progress<'a>,
    ) -> LocalFuture<'a, Result<Vec<u8>, DownloadError>> {
        Box::pin(async move {
            let got = self.fetch(url, DownloadRequest::default(), limits, progress).await.map_err(|f| f.error)?;
            Ok(got.body)
        })
    }
}

/// Idle time for background work (pre-generation, cache sweeps).
pub trait IdleScheduler {
    /// Resolves when the browser is idle (or after `timeout_ms` at the latest) with the ms of idle time left.
    fn idle(&self, timeout_ms: u32) -> LocalFuture<'_, f64>;
    /// Resolves after `ms` milliseconds, any `u32` (a browser timer fires at once from 2^31 ms: wait in parts).
    fn sleep(&self, ms: u32) -> LocalFuture<'_, ()>;
}

/// Runs the background work the runtime owns (the response bank download, the update check, the cache sweeps)
/// beside the game's calls. `name` says which task it is, for tests and debugging.
pub trait Spawner {
    fn spawn(&self, name: &'static str, task: LocalFuture<'static, ()>);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Visibility {
    Visible,
    Hidden,
}

/// What the device tells us; every field is optional because browsers differ (Firefox has no Battery or
/// Network Information API).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSnapshot {
    /// 0..=1
    pub battery_level: Option<f64>,
    pub charging: Option<bool>,
    /// "slow-2g", "2g", "3g" or "4g" (navigator.connection.effectiveType).
    pub effective_type: Option<String>,
    pub save_data: Option<bool>,
    pub visibility: Option<Visibility>,
    pub storage_quota_bytes: Option<f64>,
    pub storage_usage_bytes: Option<f64>,
}

pub trait DeviceSignals {
    fn snapshot(&self) -> LocalFuture<'_, DeviceSnapshot>;
}

/// Held while a [`SharedLock`] is held; dropping it releases the lock (also when the holder's future is dropped
/// half-way, so a cancelled call never keeps other tabs waiting).
pub struct LockGuard(#[allow(dead_code)] Box<dyn std::any::Any>);

impl LockGuard {
    /// Wraps whatever releases the lock when it is dropped.
    pub fn new(held: impl std::any::Any) -> LockGuard {
        LockGuard(Box::new(held))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lock unavailable: {0}")]
pub struct LockError(pub String);

/// A mutual exclusion shared by every context of the origin (the game's tabs and workers): the browser's Web
/// Locks. It makes a read-check-write of a stored record atomic across tabs (the cloud budget's ledger).
pub trait SharedLock {
    /// Resolves once this context holds the lock called `name`, after every earlier holder in any tab (and in
    /// this one: requests queue in order); held until the guard is dropped. An error: the lock cannot be used.
    fn lock<'a>(&'a self, name: &'a str) -> LocalFuture<'a, Result<LockGuard, LockError>>;
}

/// Randomness for jitter, sampling and experiment bucketing.
pub trait Rng {
    fn next_u64(&self) -> u64;

    /// A uniform float in [0, 1).
    fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Everything the runtime may touch outside itself. A store is `None` when the platform has none at all.
pub struct Ports {
    pub clock: Rc<dyn Clock>,
    pub local_storage: Option<Rc<dyn KvStore>>,
    pub indexed_db: Option<Rc<dyn KvStore>>,
    pub http: Rc<dyn Http>,
    pub downloader: Rc<dyn Downloader>,
    pub idle: Rc<dyn IdleScheduler>,
    pub device: Rc<dyn DeviceSignals>,
    pub rng: Rc<dyn Rng>,
    /// Runs the runtime's background tasks.
    pub spawner: Rc<dyn Spawner>,
    /// Messages to the other tabs of this game (cache invalidations); `None` where the platform has none.
    pub broadcast: Option<Rc<dyn Broadcast>>,
    /// A copy of the memory tier next to the caller (the browser's `ai.memoryCache()`); `None`: no copy.
    pub memory_mirror: Option<Rc<dyn MemoryMirror>>,
    /// A lock shared with the other tabs (Web Locks), so they keep one cloud budget; `None` where the platform
    /// has none (the budget then re-reads and writes at once, see `router/cost/ledger.rs`).
    pub shared_lock: Option<Rc<dyn SharedLock>>,
    /// A faster SHA-256 than the core's own (WebCrypto); `None`: the core hashes (a page that is not a secure
    /// context has no `crypto.subtle`).
    pub digest: Option<Rc<dyn Digest>>,
}
