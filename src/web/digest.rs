//! SHA-256 by the browser's WebCrypto (`crypto.subtle.digest`): native code off the calling thread, where hashing
//! the model files in WebAssembly takes 18-32 ms of a start. A page that is not a secure context has no
//! `crypto.subtle`: the core hashes there (`Ports::digest` is `None`).
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::model::manifest::sha256_hex;
use crate::ports::{Digest, LocalFuture};

pub struct WebDigest {
    subtle: web_sys::SubtleCrypto,
}

impl WebDigest {
    /// `None` where this global has no `crypto.subtle`.
    pub fn open() -> Option<WebDigest> {
        let subtle = super::get(&super::global_get("crypto")?, "subtle")?;
        Some(WebDigest { subtle: subtle.dyn_into().ok()? })
    }

    async fn digest(&self, bytes: &[u8]) -> Option<String> {
        // WebCrypto copies `bytes` before the call returns, so the view of wasm memory may change afterwards.
        let promise = self.subtle.digest_with_str_and_u8_array("SHA-256", bytes).ok()?;
        let buffer = JsFuture::from(promise).await.ok()?;
        let hash = js_sys::Uint8Array::new(&buffer).to_vec();
        (hash.len() == 32).then(|| hash.iter().map(|b| format!("{b:02x}")).collect())
    }
}

impl Digest for WebDigest {
    fn sha256_hex<'a>(&'a self, bytes: &'a [u8]) -> LocalFuture<'a, String> {
        // A digest the browser refuses (it should not) is still answered: hashed here.
        Box::pin(async move { self.digest(bytes).await.unwrap_or_else(|| sha256_hex(bytes)) })
    }
}
