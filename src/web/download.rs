use std::future::Future;

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit};

use super::{call0, describe, get, global_get};
use crate::ports::{DownloadError, DownloadLimits, Downloader, HttpError, LocalFuture, Progress};

/// Streams a GET through `fetch` + `ReadableStream` reader, reporting progress per chunk. It keeps the limits
/// while it streams: no byte for `stall_ms` (the headers included) or a body past `max_bytes` aborts the fetch
/// (`AbortController`), as does dropping the future; nothing past `max_bytes` is ever buffered.
#[derive(Default)]
pub struct FetchDownloader;

/// Aborts the fetch when dropped, unless disarmed once the body is read.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

fn net(e: &JsValue) -> HttpError {
    HttpError::Network(describe(e))
}

async fn await_js(p: JsValue) -> Result<JsValue, HttpError> {
    let promise: js_sys::Promise = p.dyn_into().map_err(|e| net(&e))?;
    JsFuture::from(promise).await.map_err(|e| net(&e))
}

/// `step`, unless nothing comes of it for `stall_ms`: then a timeout (the caller's guard aborts the fetch).
async fn within<T>(stall_ms: u32, step: impl Future<Output = Result<T, HttpError>>) -> Result<T, DownloadError> {
    match select(std::pin::pin!(step), TimeoutFuture::new(stall_ms)).await {
        Either::Left((result, _)) => Ok(result?),
        Either::Right(_) => Err(HttpError::Timeout { after_ms: stall_ms }.into()),
    }
}

async fn download(url: &str, limits: DownloadLimits, progress: Progress<'_>) -> Result<Vec<u8>, DownloadError> {
    let fetch_fn: js_sys::Function = global_get("fetch")
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| HttpError::Network("fetch is not available".into()))?;
    let controller = AbortController::new().map_err(|e| net(&e))?;
    let mut guard = AbortOnDrop(Some(controller.clone()));
    let init = RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    let request = fetch_fn.call2(&js_sys::global(), &JsValue::from_str(url), &init).map_err(|e| net(&e))?;
    let resp = within(limits.stall_ms, await_js(request)).await?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|e| net(&e))?;
    if !resp.ok() {
        return Err(HttpError::Network(format!("GET {url} answered HTTP {}", resp.status())).into());
    }
    // Content-Length is only a hint: it counts the encoded bytes (gzip), the limit counts the body.
    let total = resp.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok());
    let too_large = || DownloadError::TooLarge { limit: limits.max_bytes };
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(limits.max_bytes) as usize);
    progress(0, total);
    let Some(reader) = get(&resp, "body").and_then(|b| call0(&b, "getReader")) else {
        // No streams (very old browsers): one buffer, so one stall timer for all of it, and one progress event.
        let buf = within(limits.stall_ms, await_js(resp.array_buffer().map_err(|e| net(&e))?.into())).await?;
        let buf = js_sys::Uint8Array::new(&buf);
        if u64::from(buf.length()) > limits.max_bytes {
            return Err(too_large());
        }
        bytes = buf.to_vec();
        progress(bytes.len() as u64, total);
        guard.0 = None;
        return Ok(bytes);
    };
    loop {
        let read = call0(&reader, "read").ok_or_else(|| HttpError::Network("reader.read failed".into()))?;
        let chunk = within(limits.stall_ms, await_js(read)).await?;
        if get(&chunk, "done").and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        if let Some(value) = get(&chunk, "value").and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok()) {
            let at = bytes.len();
            if (at as u64).saturating_add(u64::from(value.length())) > limits.max_bytes {
                return Err(too_large());
            }
            bytes.resize(at + value.length() as usize, 0);
            value.copy_to(&mut bytes[at..]);
            progress(bytes.len() as u64, total);
        }
    }
    guard.0 = None;
    Ok(bytes)
}

impl Downloader for FetchDownloader {
    fn download<'a>(
        &'a self,
        url: &'a str,
        limits: DownloadLimits,
        progress: Progress<'a>,
    ) -> LocalFuture<'a, Result<Vec<u8>, DownloadError>> {
        Box::pin(download(url, limits, progress))
    }
}
