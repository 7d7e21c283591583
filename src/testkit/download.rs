use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use crate::ports::{Downloader, HttpError, LocalFuture, Progress};

/// A [`Downloader`] serving files from memory in fixed-size chunks (so progress is reported several times),
/// counting downloads; a URL it does not have is a network error.
#[derive(Debug, Default)]
pub struct FakeDownloader {
    files: RefCell<HashMap<String, Vec<u8>>>,
    downloads: Cell<u32>,
    offline: Cell<bool>,
    log: RefCell<Vec<String>>,
}

impl FakeDownloader {
    pub fn new() -> Self {
        FakeDownloader::default()
    }

    pub fn serve(&self, url: &str, bytes: &[u8]) {
        self.files.borrow_mut().insert(url.to_string(), bytes.to_vec());
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
}

impl Downloader for FakeDownloader {
    fn download<'a>(&'a self, url: &'a str, progress: Progress<'a>) -> LocalFuture<'a, Result<Vec<u8>, HttpError>> {
        Box::pin(async move {
            self.log.borrow_mut().push(url.to_string());
            if self.offline.get() {
                return Err(HttpError::Network("offline".into()));
            }
            self.downloads.set(self.downloads.get() + 1);
            let bytes = self.files.borrow().get(url).cloned();
            let bytes = bytes.ok_or_else(|| HttpError::Network(format!("GET {url} answered HTTP 404")))?;
            let total = bytes.len() as u64;
            progress(0, Some(total));
            for end in (0..bytes.len()).step_by(64 * 1024).skip(1).chain([bytes.len()]) {
                progress(end as u64, Some(total));
            }
            Ok(bytes)
        })
    }
}
