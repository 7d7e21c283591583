//! The downloader as the lifecycle uses it: a stall timeout and a size bound on every file, a dropped connection
//! resumed with `Range` where it broke, and the manifest revalidated by its ETag; and the SHA-256 every file is
//! checked with.
use crate::error::Error;
use crate::model::manifest::{check_sha256, check_size, sha256_hex, FileRef};
use crate::ports::{Digest, DownloadError, DownloadLimits, DownloadRequest, Downloader, HttpError, Progress};

/// The most a manifest may be: it names no size of its own, and ours is about 2 KB. (Ours.)
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// The most any model file may be, whatever its manifest says: the design's whole model is under 5 MB. (Ours.)
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Attempts at one file, the first included (ours): each resume must bring new bytes, so a server that keeps
/// dropping the connection still gets a few chances, and one that sends nothing gets none.
const MAX_ATTEMPTS: u32 = 4;

/// The downloader, with the stall timeout of `config.model.stallTimeoutMs`, and the platform's SHA-256.
#[derive(Clone, Copy)]
pub struct Fetcher<'a> {
    pub downloader: &'a dyn Downloader,
    pub stall_ms: u32,
    /// `None`: hashed here (`sha2`).
    pub digest: Option<&'a dyn Digest>,
}

/// The server's manifest: its text and ETag, or "not modified" (the ETag sent is current).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ManifestFetch {
    NotModified,
    Fetched { text: String, etag: Option<String> },
}

fn error(url: &str, e: DownloadError) -> Error {
    match e {
        DownloadError::TooLarge { limit } => {
            Error::ModelIntegrity(format!("{url} is larger than the {limit} bytes expected; its download was aborted"))
        }
        DownloadError::Http(HttpError::Timeout { after_ms }) => Error::ModelLoad(format!(
            "could not fetch {url}: no data for {after_ms} ms (model.stallTimeoutMs), the download was aborted"
        )),
        DownloadError::Http(e) => Error::ModelLoad(format!("could not fetch {url}: {e}")),
    }
}

impl Fetcher<'_> {
    /// The lowercase hex SHA-256 of `bytes`, by the platform's digest where it has one.
    pub(super) async fn sha256(&self, bytes: &[u8]) -> String {
        match self.digest {
            Some(d) => d.sha256_hex(bytes).await,
            None => sha256_hex(bytes),
        }
    }

    /// Checks `bytes` against the size and SHA-256 the manifest gives for `what` (the size first: it costs
    /// nothing).
    pub(super) async fn verify(&self, what: &FileRef, bytes: &[u8]) -> Result<(), Error> {
        check_size(&what.file, bytes, what.bytes)?;
        Ok(check_sha256(&what.file, &self.sha256(bytes).await, &what.sha256)?)
    }

    /// `url`'s body, aborted when no byte comes for the stall timeout (`ModelLoad`) or when it passes `max_bytes`
    /// (`ModelIntegrity`: it cannot be the file the manifest names). A connection that drops or stalls after
    /// sending bytes is resumed from the first byte missing (a server that answers the `Range` with the whole
    /// file, 200, starts it over). `progress` sees the file's bytes so far.
    pub(super) async fn get(&self, url: &str, max_bytes: u64, progress: Progress<'_>) -> Result<Vec<u8>, Error> {
        let limits = DownloadLimits { stall_ms: self.stall_ms, max_bytes: max_bytes.min(MAX_FILE_BYTES) };
        let mut have: Vec<u8> = Vec::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let offset = have.len() as u64;
            let request = DownloadRequest { offset, if_none_match: None };
            let got = self.downloader.fetch(url, request, limits, &|n, _| progress(offset + n, None)).await;
            let (from, body, failed) = match got {
                Ok(d) => (d.from, d.body, None),
                Err(f) => (f.from, f.received, Some(f.error)),
            };
            // A body from beyond what we have would leave a hole; one from before it replaces the overlap.
            if from > offset {
                return Err(Error::ModelLoad(format!("could not fetch {url}: the server sent bytes from {from}")));
            }
            have.truncate(from as usize);
            let added = body.len();
            have.extend_from_slice(&body);
            match failed {
                None => return Ok(have),
                Some(DownloadError::Http(HttpError::Network(_) | HttpError::Timeout { .. }))
                    if added > 0 && attempt < MAX_ATTEMPTS => {}
                Some(e) => return Err(error(url, e)),
            }
        }
    }

    /// The manifest at `url`; with `etag`, revalidated (`If-None-Match`). A conditional request that fails at
    /// the network is sent again plain: across origins it needs a CORS preflight the server may not answer.
    pub(super) async fn manifest(&self, url: &str, etag: Option<&str>) -> Result<ManifestFetch, Error> {
        let limits = DownloadLimits { stall_ms: self.stall_ms, max_bytes: MAX_MANIFEST_BYTES };
        let mut request = DownloadRequest { offset: 0, if_none_match: etag.map(str::to_string) };
        let got = loop {
            let conditional = request.if_none_match.is_some();
            match self.downloader.fetch(url, request.clone(), limits, &|_, _| {}).await {
                Err(f) if conditional && matches!(f.error, DownloadError::Http(HttpError::Network(_))) => {
                    request.if_none_match = None;
                }
                other => break other.map_err(|f| error(url, f.error))?,
            }
        };
        if got.not_modified {
            return Ok(ManifestFetch::NotModified);
        }
        let text = String::from_utf8(got.body).map_err(|e| Error::ModelLoad(format!("manifest is not UTF-8: {e}")))?;
        Ok(ManifestFetch::Fetched { text, etag: got.etag })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use pollster::block_on;

    use super::*;
    use crate::testkit::FakeDownloader;

    const URL: &str = "https://cdn.test/m.onnx";

    fn served(len: u32) -> (FakeDownloader, Vec<u8>) {
        let file: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let dl = FakeDownloader::new();
        dl.serve(URL, &file);
        (dl, file)
    }

    fn get(dl: &FakeDownloader) -> Result<Vec<u8>, Error> {
        block_on(Fetcher { downloader: dl, stall_ms: 1_000, digest: None }.get(URL, 1 << 20, &|_, _| {}))
    }

    #[test]
    fn a_dropped_connection_resumes_where_it_broke_with_a_range_request() {
        let (dl, file) = served(300_000);
        dl.drop_at(URL, 100_000);
        dl.stall_at(URL, 200_000);
        let seen = RefCell::new(Vec::new());
        let net = Fetcher { downloader: &dl, stall_ms: 1_000, digest: None };
        let got = block_on(net.get(URL, 1 << 20, &|n, _| seen.borrow_mut().push(n))).unwrap();
        assert_eq!(got, file, "the parts join into the whole file");
        assert_eq!(dl.offsets(URL), [0, 100_000, 200_000], "a drop, then a stall, each resumed");
        assert!(seen.borrow().windows(2).all(|w| w[0] <= w[1]), "progress counts the file, not each part");
        assert_eq!(seen.borrow().last(), Some(&300_000));
    }

    #[test]
    fn a_server_that_ignores_range_starts_the_file_over() {
        let (dl, file) = served(200_000);
        dl.ignore_range(URL);
        dl.drop_at(URL, 150_000);
        assert_eq!(get(&dl).unwrap(), file);
        assert_eq!(dl.offsets(URL), [0, 150_000], "asked from 150000, answered 200 with all of it");
    }

    #[test]
    fn resuming_stops_when_an_attempt_brings_nothing_or_too_many_fail() {
        let (dl, _) = served(200_000);
        dl.drop_at(URL, 100_000);
        dl.drop_at(URL, 100_000);
        let err = get(&dl).unwrap_err();
        assert!(err.to_string().contains("reset"), "{err}");
        assert_eq!(dl.offsets(URL).len(), 2, "the resume brought no byte: given up");

        let (dl, _) = served(200_000);
        for at in [10_000, 20_000, 30_000, 40_000] {
            dl.drop_at(URL, at);
        }
        assert!(get(&dl).is_err());
        assert_eq!(dl.offsets(URL).len(), MAX_ATTEMPTS as usize);

        let (dl, _) = served(200_000);
        dl.stall(URL);
        assert_eq!(get(&dl).unwrap_err().code().as_str(), "ModelLoadError", "a stall before any byte");
        assert_eq!(dl.offsets(URL), [0]);
    }

    #[test]
    fn the_manifest_is_revalidated_by_its_etag() {
        let dl = FakeDownloader::new();
        dl.serve(URL, b"{}");
        let net = Fetcher { downloader: &dl, stall_ms: 1_000, digest: None };
        let Ok(ManifestFetch::Fetched { text, etag: Some(etag) }) = block_on(net.manifest(URL, None)) else {
            panic!("a manifest with an ETag")
        };
        assert_eq!(text, "{}");
        assert_eq!(block_on(net.manifest(URL, Some(&etag))).unwrap(), ManifestFetch::NotModified);
        dl.serve(URL, b"{\"v\": 2}");
        assert!(matches!(block_on(net.manifest(URL, Some(&etag))), Ok(ManifestFetch::Fetched { .. })));
        dl.set_offline(true);
        assert!(block_on(net.manifest(URL, Some(&etag))).is_err());
        assert_eq!(dl.requests().len(), 5, "a conditional request that fails is sent once more, plain");
    }
}
